package textprep

import (
	"strings"
	"testing"
)

type prepCase struct {
	name string
	in   string
	// want is the exact New.
	want string
	// quoted, sig, disc, banner: substrings that must be in the cut text
	// (and not in New). "" means that kind must be empty.
	quoted, sig, disc, banner string
	forwarded                 bool
}

func runCases(t *testing.T, cases []prepCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Prepare(c.in)
			if p.New != c.want {
				t.Errorf("New:\n got %q\nwant %q\ncuts %+v", p.New, c.want, p.Cuts)
			}
			check := func(what, got, want string) {
				t.Helper()
				if want == "" {
					if got != "" {
						t.Errorf("%s: got %q, want none", what, got)
					}
					return
				}
				for _, w := range strings.Split(want, "|") {
					if !strings.Contains(got, w) {
						t.Errorf("%s: %q does not contain %q", what, got, w)
					}
					if strings.Contains(p.New, w) {
						t.Errorf("New %q still contains %s text %q", p.New, what, w)
					}
				}
			}
			check("Quoted", p.Quoted, c.quoted)
			check("Signature", p.Signature, c.sig)
			check("Disclaimer", p.Disclaimer, c.disc)
			check("Banner", p.Banner, c.banner)
			if p.Forwarded != c.forwarded {
				t.Errorf("Forwarded = %v, want %v", p.Forwarded, c.forwarded)
			}
			if (p.Summary() == "") != (len(p.Cuts) == 0) {
				t.Errorf("Summary %q with %d cuts", p.Summary(), len(p.Cuts))
			}
			checkInvariants(t, c.in, p)
		})
	}
}

// checkInvariants holds for every input: cuts are ordered, disjoint and in
// bounds; New is a byte subsequence of the input and never longer.
func checkInvariants(t *testing.T, in string, p Prepared) {
	t.Helper()
	if len(p.New) > len(in) {
		t.Fatalf("New longer than input: %d > %d", len(p.New), len(in))
	}
	j := 0
	for i := 0; i < len(p.New); i++ {
		for j < len(in) && in[j] != p.New[i] {
			j++
		}
		if j == len(in) {
			t.Fatalf("New is not a subsequence of the input at byte %d: %q", i, p.New)
		}
		j++
	}
	if strings.TrimSpace(p.New) != p.New {
		t.Fatalf("New is not trimmed: %q", p.New)
	}
	end := 0
	var has [KindBanner + 1]bool
	for _, c := range p.Cuts {
		if c.Start < end || c.End <= c.Start || c.End > len(in) || c.Lines < 1 {
			t.Fatalf("bad cut %+v after %d in %d bytes", c, end, len(in))
		}
		end = c.End
		has[c.Kind] = true
	}
	for k, got := range map[Kind]string{KindSignature: p.Signature, KindDisclaimer: p.Disclaimer, KindBanner: p.Banner} {
		if has[k] != (got != "") {
			t.Fatalf("%v cut present %v, text %q", k, has[k], got)
		}
	}
	if (has[KindQuote] || has[KindForward] || has[KindHeader]) != (p.Quoted != "") {
		t.Fatalf("quote cuts and Quoted %q disagree", p.Quoted)
	}
	if (p.Summary() == "") != (len(p.Cuts) == 0) {
		t.Fatalf("Summary %q with %d cuts", p.Summary(), len(p.Cuts))
	}
}

func TestPrepareEnglish(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "gmail top-post with our rep's quoted pricing/MSA/SOC 2",
			in: `Hi Bob,

Thanks for this. Could we get a call on Thursday to walk through the numbers?

Best,
Ana Ruiz
Contracts Manager | Globex
+1 (555) 010-0199
www.globex.example

On Mon, Mar 2, 2026 at 4:12 PM Bob Stone <bob@vendor.example> wrote:

> Hi Ana,
>
> Pricing, MSA and SOC 2 attached. Happy to set up a call with legal.
>
> Bob
`,
			want:   "Hi Bob,\n\nThanks for this. Could we get a call on Thursday to walk through the numbers?",
			quoted: "Pricing, MSA and SOC 2 attached|wrote:",
			sig:    "Contracts Manager | Globex|Ana Ruiz|+1 (555) 010-0199",
		},
		{
			name:   "gmail reply header wrapped over two lines",
			in:     "Sounds good, send the order form.\n\nOn Mon, Mar 2, 2026 at 4:12 PM Bob Stone <\nbob@vendor.example> wrote:\n\n> Here is the security questionnaire.\n",
			want:   "Sounds good, send the order form.",
			quoted: "security questionnaire",
		},
		{
			name: "outlook desktop with underscore rule and header block",
			in: `Hello,

We are ready to move forward with 200 seats.

Regards
Mark

________________________________
From: Bob Stone <bob@vendor.example>
Sent: Monday, March 2, 2026 4:12 PM
To: Mark Lee <mark@initech.example>
Subject: RE: Proposal

Mark, the MSA redlines are with our legal team. We need your DPA.

Bob Stone | Account Executive
`,
			want:   "Hello,\n\nWe are ready to move forward with 200 seats.",
			quoted: "MSA redlines|From: Bob Stone|Subject: RE: Proposal",
			sig:    "Regards|Mark",
		},
		{
			name: "outlook original message separator, long thread below",
			in: `Can you confirm the discount holds until April?

Thanks,
Priya

-----Original Message-----
From: Bob Stone
Sent: Friday, February 27, 2026 9:01 AM
To: Priya Shah
Subject: Quote

Hi Priya, quote attached. Legal terms are standard.

-----Original Message-----
From: Priya Shah
Sent: Thursday, February 26, 2026 5:30 PM
To: Bob Stone
Subject: Quote

Could you send a quote? We also need to know about GDPR.
`,
			want:   "Can you confirm the discount holds until April?",
			quoted: "Legal terms are standard|GDPR",
			sig:    "Thanks,|Priya",
		},
		{
			name:   "outlook web bold headers rendered as text",
			in:     "Please loop in your security team.\n\n*From:* Bob Stone <bob@vendor.example>\n*Sent:* Monday, March 2, 2026 4:12 PM\n*To:* Kim <kim@x.example>\n*Subject:* SOC 2\n\nSOC 2 report attached.\n",
			want:   "Please loop in your security team.",
			quoted: "SOC 2 report attached",
		},
		{
			name:   "apple mail reply",
			in:     "Works for me.\n\nSent from my iPhone\n\n> On Mar 2, 2026, at 16:12, Bob Stone <bob@vendor.example> wrote:\n>\n> Can we talk contract terms tomorrow?\n",
			want:   "Works for me.",
			quoted: "contract terms",
			sig:    "Sent from my iPhone",
		},
		{
			name: "inline interleaved reply keeps the buyer's answers",
			in: `On Mon, Mar 2, 2026 at 4:12 PM Bob Stone <bob@vendor.example> wrote:
> 1. How many seats do you need?

About 120, maybe 150 next year.

> 2. Do you need SSO?

Yes, Okta.

> 3. Any legal requirements?

Our counsel will want a DPA.

Cheers,
Tom
`,
			want:   "About 120, maybe 150 next year.\nYes, Okta.\nOur counsel will want a DPA.",
			quoted: "How many seats|Do you need SSO|Any legal requirements",
			sig:    "Cheers,|Tom",
		},
		{
			name: "gmail forward with a note on top",
			in: `Looping in our procurement lead, see below.

---------- Forwarded message ---------
From: Bob Stone <bob@vendor.example>
Date: Mon, Mar 2, 2026 at 4:12 PM
Subject: Pricing
To: Ana Ruiz <ana@globex.example>

Pricing, MSA and SOC 2 attached.
`,
			want:      "Looping in our procurement lead, see below.",
			quoted:    "Pricing, MSA and SOC 2 attached|Forwarded message",
			forwarded: true,
		},
		{
			name: "pure forward keeps the forwarded body without its headers",
			in: `---------- Forwarded message ---------
From: Dana Cho <dana@globex.example>
Date: Mon, Mar 2, 2026 at 4:12 PM
Subject: Vendor review
To: Ana Ruiz <ana@globex.example>

Ana, legal wants the MSA and a security review before we sign.

Dana Cho
Head of Legal | Globex
dana@globex.example
`,
			want:      "Ana, legal wants the MSA and a security review before we sign.",
			quoted:    "From: Dana Cho|Subject: Vendor review",
			sig:       "Head of Legal | Globex",
			forwarded: true,
		},
		{
			name:      "apple mail pure forward",
			in:        "Begin forwarded message:\n\nFrom: Dana Cho <dana@globex.example>\nSubject: Budget\nDate: 2 March 2026 at 16:12:00 GMT\nTo: Ana Ruiz <ana@globex.example>\n\nWe have budget approval for Q2.\n",
			want:      "We have budget approval for Q2.",
			quoted:    "Begin forwarded message|Subject: Budget",
			forwarded: true,
		},
		{
			name: "disclaimer and banner",
			in: `CAUTION: This email originated from outside of the organization. Do not click links or open attachments unless you recognize the sender.

Hi,

Is there a discount for a three-year term?

Kind regards,
Lena Fischer
VP Finance
Initech Ltd.

CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended solely for the addressee. If you are not the intended recipient, please notify the sender and delete it.
`,
			want:   "Hi,\n\nIs there a discount for a three-year term?",
			sig:    "VP Finance|Initech Ltd.",
			disc:   "CONFIDENTIALITY NOTICE|intended recipient",
			banner: "originated from outside",
		},
		{
			name: "disclaimer sentence without heading, after signature with no blank line",
			in:   "Please send the renewal quote.\n\nThanks,\nJo\nThis email and any attachments are confidential and may be privileged. If you are not the intended recipient, delete it.\n",
			want: "Please send the renewal quote.",
			sig:  "Thanks,|Jo",
			disc: "may be privileged",
		},
		{
			name:   "[External] tag on the first line keeps the words after it",
			in:     "[EXTERNAL] Hi Bob, can we get a quote for 40 seats?",
			want:   "Hi Bob, can we get a quote for 40 seats?",
			banner: "[EXTERNAL]",
		},
		{
			name: "dash-dash signature delimiter",
			in:   "Yes, we need SAML.\n\n-- \nKim Park\nIT Director, Hooli\n",
			want: "Yes, we need SAML.",
			sig:  "Kim Park|IT Director, Hooli",
		},
		{
			name: "signature without sign-off: name, title, phone",
			in:   "Can you do net-60 payment terms?\n\nAna Ruiz\nContracts Manager | Globex\n+34 600 123 456\n",
			want: "Can you do net-60 payment terms?",
			sig:  "Contracts Manager | Globex",
		},
		{
			name: "P.S. under the signature stays content",
			in:   "We'd like to start in May.\n\nBest,\nAna\nGlobex\n\nP.S. Can you also send the SOC 2 report?\n",
			want: "We'd like to start in May.\nP.S. Can you also send the SOC 2 report?",
			sig:  "Best,|Globex",
		},
	})
}

func TestPrepareNoFalseCuts(t *testing.T) {
	same := func(name, in string) prepCase {
		return prepCase{name: name, in: in, want: strings.TrimSpace(in)}
	}
	runCases(t, []prepCase{
		same("best price is not a sign-off", "Best price for 50 seats?"),
		same("one-line thanks with name stays", "Thanks, Ana"),
		same("thanks as first line", "Thanks!\nCan you send the pricing for 50 seats?"),
		same("bare thanks at the end stays", "Can you send the pricing?\n\nThanks!"),
		same("thanks mid-message with sentence after", "Hi,\nThanks.\nWe need legal review before signing."),
		same("chat with typos", "hey  can u send teh pricng for like 50 seets?? also r u soc2 compliant\nneed it by fri"),
		same("greater-than number is not a quote", ">50 seats, and we need SSO."),
		same("regards to the team is content", "Regards to the team, we loved the demo.\nWhat does enterprise cost?"),
		same("buyer mentions confidentiality", "This email is about our contract: is the pricing confidential?\nWe need an NDA first."),
		same("buyer writes 'wrote:' in prose", "In 2025 our legal team wrote:\nno auto-renewal clauses please."),
		same("from in prose", "From: our side, the budget is approved.\nTo be honest we need it fast."),
		same("cheers as content", "Cheers for the quick reply, the demo was great!"),
		same("dash-dash as a separator between options", "Two options:\nA: 50 seats annual\n--\nB: 80 seats, is that cheaper per seat?"),
		same("sign-off mid-message, then a list", "Hi Bob,\nThanks,\nAna\n\nOpen Questions:\nPricing\nSSO\nSCIM\nAudit Logs"),
		same("single line", "  what's the price for 10 seats  "),
		same("empty", ""),
		same("spanish chat", "hola, cuanto cuesta el plan enterprise? necesitamos factura"),
		same("name only at the end without contact", "Please send the MSA.\n\nAna"),
	})
}
