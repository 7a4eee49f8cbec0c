#!/usr/bin/env bash
# A case walked through the casework API, from application to decision, and the decision in the
# municipality's activity grant (docs/casework.md shows its output). Needs a running service
# (`sio serve`) on $SIO_URL with the demo data imported and an admin account; see docs/casework.md.
set -euo pipefail
B="${SIO_URL:-http://127.0.0.1:8000}"
SIO="${SIO:-sio}"
ADMIN_PASSWORD="${ADMIN_PASSWORD:?set ADMIN_PASSWORD}"
j() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
say() { printf '\n### %s\n' "$*"; }
show() { python3 -m json.tool --no-ensure-ascii; }

say "admin signs in and creates a caseworker bound to Stjørdal (5035)"
curl -s -c admin.jar -H 'Content-Type: application/json' \
  -d "{\"brukernavn\":\"admin\",\"passord\":\"$ADMIN_PASSWORD\"}" "$B/api/innlogging" > admin.json
ACSRF=$(j "['csrf_token']" < admin.json)
curl -s -b admin.jar -H "X-CSRF-Token: $ACSRF" -H 'Content-Type: application/json' \
  -d '{"brukernavn":"kari.stjordal","passord":"et-langt-passord-2020","rolle":"saksbehandler","kommunenummer":"5035"}' \
  "$B/api/kontoer" | show

say "the caseworker signs in (cookie session; writes carry the CSRF token)"
curl -s -c kari.jar -H 'Content-Type: application/json' \
  -d '{"brukernavn":"kari.stjordal","passord":"et-langt-passord-2020"}' "$B/api/innlogging" > kari.json
CSRF=$(j "['csrf_token']" < kari.json)
post() { curl -s -b kari.jar -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d "$2" "$B$1"; }

say "application (henvendelse)"
post /api/saker '{"fodselsnummer":"02014010125","mottatt":"2020-09-01","henvendelse":"Trenger hjelp til rengjøring og innkjøp etter hoftebrudd"}' > sak.json
show < sak.json
SAK=$(j "['id']" < sak.json)

say "a bad assessment: score 6 and signed before it was made"
post "/api/saker/$SAK/kartlegginger" '{"skaarer":{"sosial_deltakelse":1,"beslutninger_dagliglivet":1,"styre_atferd":1,"alminnelig_husarbeid":6,"skaffe_varer":3,"personlig_hygiene":2,"av_og_paakledning":1,"spise":1,"lage_mat":2,"ivareta_egen_helse":2,"bevege_seg_innendoers":1,"bevege_seg_utendoers":2,"toalett":1,"hukommelse":1,"kommunikasjon":1,"syn":1,"hoersel":9},"kartlagt_dato":"2020-09-08","kartlagt_av":"Kari Nordmann","signert_dato":"2020-09-07"}' | show

say "the assessment (IPLOS, with what matters to the person)"
post "/api/saker/$SAK/kartlegginger" '{"skaarer":{"sosial_deltakelse":1,"beslutninger_dagliglivet":1,"styre_atferd":1,"alminnelig_husarbeid":3,"skaffe_varer":3,"personlig_hygiene":2,"av_og_paakledning":1,"spise":1,"lage_mat":2,"ivareta_egen_helse":2,"bevege_seg_innendoers":1,"bevege_seg_utendoers":2,"toalett":1,"hukommelse":1,"kommunikasjon":1,"syn":1,"hoersel":9},"kartlagt_dato":"2020-09-08","kartlagt_av":"Kari Nordmann","signert_dato":"2020-09-08","hva_er_viktig":"Å klare meg selv hjemme og gå tur med hunden"}' | show

say "the recommendation (LEON: the lowest effective step)"
post "/api/saker/$SAK/anbefalinger" '{}' | show

say "a decision above the recommended range without a justification"
post "/api/saker/$SAK/vedtak" '{"tjeneste":"PB_DAGL","omfang":"3","enhet":"timer_per_uke","fra":"2020-10-01","maal":"Klare seg hjemme"}' | show

say "the decision (within the range)"
post "/api/saker/$SAK/vedtak" '{"tjeneste":"PB_DAGL","omfang":"1.5","enhet":"timer_per_uke","fra":"2020-10-01","maal":"Klare seg hjemme etter hoftebruddet","vedtaksdato":"2020-09-15"}' > vedtak.json
show < vedtak.json

say "the decision is a vedtak row of the data store: the activity grant of Stjørdal 2020"
"$SIO" data versions | tail -4
"$SIO" explain --db --kommune 5035 --year 2020 --maaned 12 | grep -E "SAK$SAK|Sum av linjene"
