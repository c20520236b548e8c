#!/usr/bin/env bash
# The whole ZiQ journey from the command line, on a simulated clock (the programme runs 2021/22).
set -euo pipefail
Q=${QUARTIER:-quartier}
C=traeger4@quartier.example; R=pruefung@quartier.example; A=zeichnung@quartier.example

echo "== Budget vorher"; $Q budget
ref=$($Q --now 2020-11-25T09:00:00+01:00 applications create --as $C --module B1 \
  --title "Quartierseltern Chorweiler" --summary "Elternbegleitung im Quartier" \
  --quartier Chorweiler --start 2021-04-01 --end 2022-03-31 --own-contribution 8000 \
  --amount 2021=60000 --amount 2022=20000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reference"])')
echo "== Antrag $ref"
$Q --now 2020-11-26T10:00:00+01:00 fire "$ref" submit --as $C
$Q --now 2020-11-30T10:00:00+01:00 fire "$ref" start_review --as $R
$Q --now 2020-12-01T10:00:00+01:00 fire "$ref" request_documents --as $R \
  --reason "Bitte Kooperationsvereinbarung nachreichen" --document Kooperationsvereinbarung
agreement="$(mktemp --suffix=.pdf)"
printf '%%PDF-1.4\n%% Kooperationsvereinbarung\n%%%%EOF\n' > "$agreement"
$Q --now 2020-12-07T09:00:00+01:00 documents upload "$ref" "$agreement" --as $C
rm -f "$agreement"
$Q --now 2020-12-07T10:00:00+01:00 fire "$ref" provide_documents --as $C --reason "Vereinbarung anbei"
$Q --now 2020-12-09T10:00:00+01:00 fire "$ref" recommend --as $R --reason "Förderfähig" \
  --amount 2021=55000 --amount 2022=20000
echo "== Vier-Augen-Prinzip: die Prüferin darf nicht bewilligen"
$Q --now 2020-12-10T10:00:00+01:00 fire "$ref" approve --as $R || true
$Q --now 2020-12-10T10:00:00+01:00 fire "$ref" approve --as $A
$Q --now 2021-04-01T08:00:00+02:00 fire "$ref" start --as $C
$Q --now 2022-08-15T10:00:00+02:00 fire "$ref" submit_final_report --as $C \
  --spending 2021=50000 --spending 2022=18000 --reason "Verwendungsnachweis"
echo "== Budget vor dem Abschluss"; $Q budget
$Q --now 2022-09-01T10:00:00+02:00 fire "$ref" close --as $R --reason "Nachweis geprüft"
echo "== Budget nach dem Abschluss (Minderausgabe 5.000 € in 2021 und 2.000 € in 2022 zurück)"
$Q budget
$Q applications history "$ref"
