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
# The Verwendungsnachweis: Sachbericht, actual expenses by heading, the Belegliste.
report="$(mktemp --suffix=.json)"
cat > "$report" <<REPORT
{"sachbericht": "Zwölf Quartierseltern haben 140 Familien in Chorweiler begleitet: Sprechstunden, Hausbesuche und ein Elterncafé jede Woche; die Kooperation mit der Kita und dem Familienzentrum läuft nach dem Ende der Förderung aus eigenen Mitteln weiter.",
 "nachweis": {"$Y1": {"expenses": {"personnel": "50000"}, "own": "0", "third_party": "0"},
              "$Y2": {"expenses": {"personnel": "18000"}, "own": "0", "third_party": "0"}},
 "belege": [{"year": $Y1, "heading": "personnel", "date": "$Y1-12-31", "party": "Gehaltsabrechnung",
             "purpose": "Personal $Y1", "amount": "50000", "number": "G-$Y1"},
            {"year": $Y2, "heading": "personnel", "date": "$Y2-03-31", "party": "Gehaltsabrechnung",
             "purpose": "Personal $Y2", "amount": "18000", "number": "G-$Y2"}]}
REPORT
$Q --now $Y2-08-15T10:00:00+02:00 final-report edit "$ref" "$report" --as $C
rm -f "$report"
$Q --now $Y2-08-15T10:00:00+02:00 fire "$ref" submit_final_report --as $C --reason "Verwendungsnachweis"
$Q --now $Y2-08-20T10:00:00+02:00 final-report check "$ref" --as $R --summary "Nachweis schlüssig" \
  --rating sachbericht=erfuellt --rating finanzplan=erfuellt --rating belegliste=erfuellt \
  --rating zweck=erfuellt
echo "== Budget vor der Abrechnung"; $Q budget --call $CALL
$Q --now $Y2-09-01T10:00:00+02:00 settlement settle "$ref" --as $R
echo "== Budget nach der Abrechnung (über der festgesetzten Zuwendung zurück; die Zuwendung bleibt für die Schlusszahlung gebunden)"
$Q budget --call $CALL
echo "== Schlusszahlung: Bankverbindung des Trägers, sachlich richtig, Anordnung durch eine zweite Person"
$Q --now $Y2-09-01T10:00:00+02:00 organisations bank-account --as $C --iban DE89370400440532013000
for call_id in $($Q payments calls "$ref" --as $R --json | "${PYTHON:-python3}" -c \
    'import json, sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)["items"] if c["status"] == "requested"))'); do
  $Q --now $Y2-09-02T10:00:00+02:00 payments check "$call_id" --as $R
  $Q --now $Y2-09-02T10:00:00+02:00 payments order "$call_id" --as $A
done
$Q payments calls "$ref" --as $R
$Q applications history "$ref"
