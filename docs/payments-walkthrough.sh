#!/usr/bin/env bash
# The payment year 2016 of the demo data for the scheme's first cohort, from its first month (May
# 2016) to the final settlement, and the same year taken over in July by a second store with an
# opening balance (docs/payments.md shows the output; tests/test_docs_payments.py runs this script
# and checks that every figure the document quotes is what the commands print). Run it from an
# empty folder:
#   bash path/to/docs/payments-walkthrough.sh
# It uses SQLite stores in the folder. `### name` lines mark the output of each step.
set -euo pipefail
SIO="${SIO:-sio}"
export COLUMNS="${COLUMNS:-80}"
export SIO_DATABASE_URL="sqlite:///$PWD/sio-betaling.db"

$SIO demo --ut sio-demo --fra-aar 2016 --til-aar 2016 > /dev/null
echo "### importer"
$SIO importer sio-demo/inndata

echo "### kjor-2016-05"
$SIO utbetaling kjor --maaned 2016-05 --ut sio-utbetaling/2016-05
echo "### kjor-2016-06-12"
$SIO utbetaling kjor --fra 2016-06 --til 2016-12 --ut sio-utbetaling > /dev/null
echo "### etteroppgjoer-2016"
$SIO etteroppgjoer --aar 2016 --ut sio-utbetaling/etteroppgjoer-2016
echo "### status-0138"
$SIO utbetaling status --aar 2016 --kommune 0138
$SIO utbetaling status --aar 2016 --format json > status-2016.json
$SIO beregn --db --aar 2016 --format csv > beregn-2016.csv

# The same year in a second store that takes over in July 2016: May and June were paid by an
# earlier system (here: 0138 was paid 4 000 000 kr for them; the others as their letters of May and
# June in the first store say).
export SIO_DATABASE_URL="sqlite:///$PWD/sio-overtatt.db"
$SIO importer sio-demo/inndata > /dev/null
{
  echo "kommunenummer,aar,utbetalt_kr,til_og_med_maaned"
  echo "0138,2016,4000000.00,6"
  for code in 0123 0926 1243 1664 1714; do
    sum=$(awk -F, -v k="$code" 'NR > 1 && $1 == k { s += $4 } END { printf "%.2f", s }' \
      sio-utbetaling/2016-05/utbetaling-2016-05.csv sio-utbetaling/2016-06/utbetaling-2016-06.csv)
    echo "$code,2016,$sum,6"
  done
} > inngaende-saldo.csv
echo "### inngaende-saldo"
$SIO utbetaling inngaende-saldo inngaende-saldo.csv
echo "### overtatt-kjor-2016-07"
$SIO utbetaling kjor --maaned 2016-07 --ut sio-overtatt/2016-07
$SIO utbetaling kjor --fra 2016-08 --til 2016-12 --ut sio-overtatt > /dev/null
$SIO etteroppgjoer --aar 2016 --ut sio-overtatt/etteroppgjoer-2016 > /dev/null
echo "### overtatt-status-0138"
$SIO utbetaling status --aar 2016 --kommune 0138
$SIO utbetaling status --aar 2016 --format json > overtatt-status-2016.json
