#!/usr/bin/env bash
# The payment year 2020 of the demo data, month by month, with two corrections and the final
# settlement (docs/payments.md shows its output). Run from an empty folder:
#   bash path/to/docs/payments-walkthrough.sh
# It uses a SQLite store in the folder (or the database in SIO_DATABASE_URL if you set it).
set -euo pipefail
export SIO_DATABASE_URL="${SIO_DATABASE_URL:-sqlite:///$PWD/sio-betaling.db}"
SIO="${SIO:-sio}"

"$SIO" demo --out sio-demo --fra-aar 2020 --til-aar 2020 > /dev/null
"$SIO" import sio-demo/inndata

for m in 01 02 03; do "$SIO" utbetaling kjor --maaned "2020-$m"; done

# A late report: Stjørdal's 12 home-nursing decisions of 10 hours a week from 1 February 2020
# reach the directorate after February was settled (in the run of March).
mkdir -p rettelse-1
{
  echo "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til"
  for i in $(seq -w 1 12); do
    echo "V5035-SEN-$i,PSEN$i,5035,HJSPL,,10,timer_per_uke,2020-02-01,"
  done
} > rettelse-1/vedtak.csv
"$SIO" import rettelse-1

for m in 04 05 06 07 08 09 10 11 12; do "$SIO" utbetaling kjor --maaned "2020-$m"; done
"$SIO" utbetaling kjor --maaned 2020-12     # a second time: nothing is paid
"$SIO" etteroppgjoer --aar 2020

# A correction after the final settlement: one of the late decisions ended on 30 September.
mkdir -p rettelse-2
printf '%s\n' "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til" \
  "V5035-SEN-01,PSEN01,5035,HJSPL,,10,timer_per_uke,2020-02-01,2020-09-30" > rettelse-2/vedtak.csv
"$SIO" import rettelse-2
"$SIO" utbetaling kjor --maaned 2021-01

"$SIO" utbetaling status --aar 2020 --kommune 5035
"$SIO" utbetaling kjoringer
