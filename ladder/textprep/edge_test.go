package textprep

import (
	"strings"
	"testing"
)

func TestPrepareEdges(t *testing.T) {
	same := func(name, in string) prepCase {
		return prepCase{name: name, in: in, want: strings.TrimSpace(in)}
	}
	runCases(t, []prepCase{
		same("'wrote:' with a weekday but no date or address", "On Monday at 10 we wrote:\nthe spec needs a DPA section."),
		same("attention line about external auditors is not a banner", "Attention: our external auditors need the SOC 2 report.\n\nThanks"),
		same("buyer asks about confidentiality terms", "Hi,\n\nConfidentiality notice on your DPA: we need changes to clause 4."),
		same("disclaimer as a word in prose", "Hi Bob,\n\nDisclaimer: I am not the decision maker, but we need an MSA review."),
		same("cheers then a sentence", "Hi,\nCheers\nWe want to buy 50 seats"),
		same("list after a colon is not a signature", "Next steps:\n\nLegal Review\nSecurity Review | Procurement"),
		{
			name: "signature block without a blank line or sign-off",
			in:   "We need the DPA before Friday.\nAna Ruiz\nContracts Manager | Globex\n",
			want: "We need the DPA before Friday.",
			sig:  "Contracts Manager | Globex",
		},
		{
			name: "thanks with a name at the end of a longer message",
			in:   "Could you send the order form?\nWe are ready to sign.\n\nThanks, Ana",
			want: "Could you send the order form?\nWe are ready to sign.",
			sig:  "Thanks, Ana",
		},
		{
			name: "thanks so much with name and company",
			in:   "Great demo today.\n\nThanks so much!\nAna\nGlobex Inc.\n",
			want: "Great demo today.",
			sig:  "Thanks so much!|Globex Inc.",
		},
		{
			name:   "thunderbird header without an address",
			in:     "Agreed.\n\nOn 02/03/2026 16:12, Bob Stone wrote:\nPlease review the attached MSA.\n",
			want:   "Agreed.",
			quoted: "attached MSA",
		},
		{
			name: "outlook forward with a note (FW: subject)",
			in: `Forwarding our CFO's questions.

From: Carl Berg <carl@globex.example>
Sent: Monday, March 2, 2026 10:00 AM
To: Ana Ruiz <ana@globex.example>
Subject: FW: Pricing

What is the total cost over three years?
`,
			want:      "Forwarding our CFO's questions.",
			quoted:    "total cost over three years",
			forwarded: true,
		},
		{
			name: "headers at the top (CRM-logged or Outlook forward without note): body kept",
			in: `From: Ana Ruiz <ana@globex.example>
Sent: Monday, March 2, 2026 10:00 AM
To: Bob Stone <bob@vendor.example>
Subject: Security review

Our security team needs your pen test report.

Ana
`,
			want:      "Our security team needs your pen test report.\n\nAna",
			quoted:    "Subject: Security review",
			forwarded: true,
		},
		{
			name:   "reply header at the top without quotes: body kept",
			in:     "On Mon, Mar 2, 2026 at 4:12 PM Ana Ruiz <ana@globex.example> wrote:\nWe need SSO and a DPA.\n",
			want:   "We need SSO and a DPA.",
			quoted: "wrote:",
		},
		{
			name:      "forward inside a pure forward: the inner message is quoted under the outer note",
			in:        "---------- Forwarded message ---------\nFrom: Dana <dana@globex.example>\nDate: Mon, Mar 2, 2026\nSubject: Fwd: Terms\nTo: Ana <ana@globex.example>\n\nCan legal look at this?\n\n---------- Forwarded message ---------\nFrom: Bob <bob@vendor.example>\nDate: Fri, Feb 27, 2026\nSubject: Terms\n\nPricing, MSA and SOC 2 attached.\n",
			want:      "Can legal look at this?",
			quoted:    "Subject: Fwd: Terms|Pricing, MSA and SOC 2 attached",
			forwarded: true,
		},
		{
			name:   "CRLF line endings",
			in:     "Please send the quote.\r\n\r\nBest regards,\r\nAna Ruiz\r\nGlobex\r\n\r\nOn Mon, Mar 2, 2026 at 4:12 PM Bob <bob@vendor.example> wrote:\r\n> MSA attached\r\n",
			want:   "Please send the quote.",
			quoted: "MSA attached",
			sig:    "Best regards,|Ana Ruiz",
		},
		{
			name:   "chat quoting our docs with '> '",
			in:     "> Enterprise includes SSO and audit logs\ndoes that include SCIM too?",
			want:   "does that include SCIM too?",
			quoted: "Enterprise includes SSO",
		},
		{
			name:   "external tag then caution paragraph",
			in:     "[EXTERNAL]\nCAUTION: This email originated from outside the organization.\n\nHi, what's the price for 20 seats?\n",
			want:   "Hi, what's the price for 20 seats?",
			banner: "[EXTERNAL]|originated from outside",
		},
		{
			name:   "microsoft first-contact safety tip",
			in:     "You don't often get email from ana@globex.example. Learn why this is important\n\nHello, do you offer a nonprofit discount?\n",
			want:   "Hello, do you offer a nonprofit discount?",
			banner: "Learn why this is important",
		},
		{
			name:      "a mobile footer alone is not a note above a forward",
			in:        "Sent from my iPhone\n\nBegin forwarded message:\n\nFrom: Dana <dana@globex.example>\nSubject: Budget\n\nBudget approved for Q2.\n",
			want:      "Budget approved for Q2.",
			quoted:    "Subject: Budget",
			sig:       "Sent from my iPhone",
			forwarded: true,
		},
		{
			name:   "french outlook with no-break spaces before the colons",
			in:     "Merci, je transmets à notre juriste.\n\nDe\u00a0: Bob Stone <bob@vendor.example>\nEnvoyé\u00a0: lundi 2 mars 2026 16:12\nÀ\u00a0: Paul <paul@exemple.example>\nObjet\u00a0: Contrat\n\nVoici le contrat.\n",
			want:   "Merci, je transmets à notre juriste.",
			quoted: "Voici le contrat",
		},
		{
			name:   "reply header wrapped over three lines",
			in:     "Fine by us.\n\nOn Mon, Mar 2, 2026 at 4:12 PM Bob\nStone <bob@vendor.example>\nwrote:\n\n> Shall I send the MSA?\n",
			want:   "Fine by us.",
			quoted: "Shall I send the MSA?|wrote:",
		},
		{
			name:   "quote marks without a space under a reply header",
			in:     "Yes, 30 seats.\n\nOn Mon, Mar 2, 2026 at 4:12 PM Bob <bob@vendor.example> wrote:\n>How many seats?\n>Also, do you need the MSA?\n",
			want:   "Yes, 30 seats.",
			quoted: "How many seats?|do you need the MSA?",
		},
		{
			name:   "thunderbird header with a two-digit year and a time",
			in:     "Agreed, go ahead.\n\nOn 3/2/26 16:12, Bob Stone wrote:\nShall we send the order form?\n",
			want:   "Agreed, go ahead.",
			quoted: "order form",
		},
		{
			name: "sign-off followed by a team line",
			in:   "We will sign this week.\n\nKind regards,\nProcurement | Globex\n",
			want: "We will sign this week.",
			sig:  "Procurement | Globex",
		},
		{
			name:   "tag and caution on one line",
			in:     "[EXTERNAL] CAUTION: This email originated from outside the organization.\n\nDo you offer annual invoicing?\n",
			want:   "Do you offer annual invoicing?",
			banner: "originated from outside",
		},
		{
			name: "german signature with imprint lines, disclaimer right under it",
			in:   "Guten Tag,\n\nbitte senden Sie uns den AVV.\n\nMit freundlichen Grüßen\n\nDr. Jonas Weber\nLeiter IT-Sicherheit\n\nBeispiel GmbH\nMusterstraße 1, 10115 Berlin\nGeschäftsführer: Max Mustermann\nAmtsgericht Charlottenburg HRB 12345\nSitz der Gesellschaft: Berlin\nDiese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige Adressat sind, löschen Sie sie bitte.\n",
			want: "Guten Tag,\n\nbitte senden Sie uns den AVV.",
			sig:  "Leiter IT-Sicherheit|HRB 12345|Sitz der Gesellschaft",
			disc: "vertrauliche Informationen",
		},
		{
			name:   "outlook mobile: pronouns, inline image, Get Outlook footer, spanish header block with CC",
			in:     "Sounds good, let's do Thursday.\n\nAna Ruiz (she/her)\nContracts Manager\n[cid:image001.png@01DA1234.56789ABC]\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nDe: Bob Stone <bob@vendor.example>\nEnviado el: lunes, 2 de marzo de 2026 16:12\nPara: Ana Ruiz <ana@globex.example>\nCC: Legal <legal@globex.example>\nAsunto: RE: Contrato\n\nHola Ana, ¿revisó legal el contrato?\n",
			want:   "Sounds good, let's do Thursday.",
			quoted: "revisó legal|Asunto: RE: Contrato",
			sig:    "Contracts Manager|Get Outlook for iOS",
		},
		{
			name: "bold name and title from an HTML signature",
			in:   "Hi Bob,\n\nPlease send the SOW.\n\n*Ana Ruiz*\n*Contracts Manager* | Globex\n",
			want: "Hi Bob,\n\nPlease send the SOW.",
			sig:  "*Contracts Manager* | Globex",
		},
		{
			name: "phone line with many number groups",
			in:   "Thanks Bob, received.\n\nBest\n\nAna Ruiz\nGlobex Corporation\nT +1 555 010 0199 | M +1 555 010 0100\n1 Infinite Loop, Cupertino, CA 95014\nhttps://globex.example\n",
			want: "Thanks Bob, received.",
			sig:  "Globex Corporation|1 Infinite Loop",
		},
		{
			name: "french print footer under the signature",
			in:   "Bonjour,\n\nMerci pour votre retour.\nPouvez-vous nous envoyer le DPA ?\n\nBien cordialement,\n\nClaire Dubois\nResponsable juridique\nTél : +33 1 23 45 67 89\n\nAvant d'imprimer, pensez à l'environnement.",
			want: "Bonjour,\n\nMerci pour votre retour.\nPouvez-vous nous envoyer le DPA ?",
			sig:  "Responsable juridique",
			disc: "pensez à l'environnement",
		},
		{
			name: "print footer",
			in:   "Send the invoice to accounts@globex.example please.\n\nPlease consider the environment before printing this email.\n",
			want: "Send the invoice to accounts@globex.example please.",
			disc: "consider the environment",
		},
	})
}

func TestSummary(t *testing.T) {
	p := Prepare(benchEmail)
	want := "ignored a quoted reply (25 lines), a signature (5 lines), a disclaimer (1 line) and a mail banner"
	if got := p.Summary(); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if k := p.Cuts[0].Kind; k != KindBanner || k.String() != "banner" {
		t.Errorf("first cut is %v, want the banner", k)
	}
	if got := Prepare("hi there").Summary(); got != "" {
		t.Errorf("Summary of a chat = %q, want empty", got)
	}
	p = Prepare("Looping in legal.\n\n---------- Forwarded message ---------\nFrom: Bob <b@x.example>\nSubject: MSA\n\nMSA attached.\n")
	if got, want := p.Summary(), "ignored a forwarded message (4 lines) below the buyer's note"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}
