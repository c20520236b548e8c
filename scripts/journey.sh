#!/usr/bin/env bash
# The whole ZiQ journey from the command line in the seeded demo call (ZiQ-DEMO, its budget years
# next year and the year after): applied for and decided today, the project on a simulated clock.
set -euo pipefail
Q=${QUARTIER:-quartier}
C=traeger4@quartier.example; R=pruefung@quartier.example; A=zeichnung@quartier.example
CALL=ZiQ-DEMO; Y1=$(( $(date +%Y) + 1 )); Y2=$(( Y1 + 1 ))

echo "== Budget vorher"; $Q budget --call $CALL
# The Kosten- und Finanzierungsplan: expenses by cost heading, own and third-party money; the
# requested grant (Fehlbedarf: the gap) follows: 60,000 euros in $Y1, 20,000 euros in $Y2.
plan="$(mktemp --suffix=.json)"
cat > "$plan" <<PLAN
{"$Y1": {"expenses": {"personnel": "52000", "fees": "9000", "material": "6000", "rent": "3000"},
         "own": "6000", "third_party": "4000"},
 "$Y2": {"expenses": {"personnel": "18000", "material": "4000"}, "own": "2000"}}
PLAN
ref=$($Q applications create --as $C --call $CALL --module B1 \
  --title "Quartierseltern Chorweiler" --summary "Elternbegleitung im Quartier" \
  --quartier Chorweiler --start $Y1-04-01 --end $Y2-03-31 \
  --finance-plan "$plan" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["reference"])')
rm -f "$plan"
echo "== Antrag $ref"
$Q fire "$ref" submit --as $C
$Q fire "$ref" start_review --as $R
$Q fire "$ref" request_documents --as $R \
  --reason "Bitte Kooperationsvereinbarung nachreichen" --document Kooperationsvereinbarung
agreement="$(mktemp --suffix=.pdf)"
printf '%%PDF-1.4\n%% Kooperationsvereinbarung\n%%%%EOF\n' > "$agreement"
$Q documents upload "$ref" "$agreement" --as $C
rm -f "$agreement"
$Q fire "$ref" provide_documents --as $C --reason "Vereinbarung anbei"
$Q fire "$ref" recommend --as $R --reason "Förderfähig" \
  --amount $Y1=55000 --amount $Y2=20000
echo "== Vier-Augen-Prinzip: die Prüferin darf nicht bewilligen"
$Q fire "$ref" approve --as $R || true
$Q fire "$ref" approve --as $A
$Q --now $Y1-04-01T08:00:00+02:00 fire "$ref" start --as $C
$Q --now $Y2-08-15T10:00:00+02:00 fire "$ref" submit_final_report --as $C \
  --spending $Y1=50000 --spending $Y2=18000 --reason "Verwendungsnachweis"
echo "== Budget vor dem Abschluss"; $Q budget --call $CALL
$Q --now $Y2-09-01T10:00:00+02:00 fire "$ref" close --as $R --reason "Nachweis geprüft"
echo "== Budget nach dem Abschluss (Minderausgabe 5.000 € in $Y1 und 2.000 € in $Y2 zurück)"
$Q budget --call $CALL
$Q applications history "$ref"
