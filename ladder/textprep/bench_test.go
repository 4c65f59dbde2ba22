package textprep

import (
	"strings"
	"testing"
)

// benchEmail is a realistic ~2 KB reply: banner, top-posted answer,
// sign-off with title and phone, disclaimer, and a Gmail-quoted thread.
var benchEmail = `[External]

Hi Bob,

Thanks for sending everything over so quickly. We went through the proposal with the team this morning and have a few follow-ups before we can take it to procurement:

1. Can you confirm the price for 150 seats on the annual plan, and whether the discount holds if we add another 50 in Q3?
2. Our security team will want to see the pen test summary in addition to the SOC 2 report.
3. Is SSO with Okta included in the Business tier or only in Enterprise?

If it is easier, we could do a 30 minute call on Thursday afternoon.

Best regards,
Ana Ruiz
Contracts Manager | Globex Corporation
+1 (555) 010-0199
www.globex.example

CONFIDENTIALITY NOTICE: This email and any attachments are confidential and intended solely for the use of the individual or entity to whom they are addressed. If you are not the intended recipient, please notify the sender immediately and delete this message.

On Mon, Mar 2, 2026 at 4:12 PM Bob Stone <bob@vendor.example> wrote:

> Hi Ana,
>
> Great speaking with you earlier. As promised, pricing, MSA and SOC 2 attached.
> Our standard terms are net-30 with annual billing; the legal team is happy to
> review redlines if your counsel has any. Let me know if you need a DPA or a
> security questionnaire filled in, we have both ready to go. For SSO, Okta and
> Azure AD are supported on every paid tier; audit logs come with Business and up.
> EU data residency is available in Frankfurt and Dublin at no extra cost.
>
> Best,
> Bob
>
> On Fri, Feb 27, 2026 at 9:01 AM Ana Ruiz <ana@globex.example> wrote:
>
>> Hi Bob, could you send a quote and your security documentation? We are
>> evaluating three vendors and would like to decide by the end of March.
>>
>> We need the tool to support SSO, audit logs and data residency in the EU,
>> and our legal team will ask for a DPA and your standard MSA. Budget is
>> approved for this quarter, so timing matters more than price for us.
>>
>> Thanks,
>> Ana
>> Contracts Manager | Globex Corporation
`

// benchChat is a 200-word chat turn with no email markers.
var benchChat = strings.TrimSpace(strings.Repeat("we are looking at your enterprise plan for about fifty seats and need to know if you support sso with okta, ", 10)) +
	"\nalso what does the contract look like, is there a dpa, and can we pay quarterly instead of annually? thanks"

func TestBenchInputs(t *testing.T) {
	if n := len(benchEmail); n < 1900 || n > 2400 {
		t.Fatalf("benchEmail is %d bytes, want about 2 KB", n)
	}
	if n := len(strings.Fields(benchChat)); n < 190 || n > 230 {
		t.Fatalf("benchChat has %d words, want about 200", n)
	}
	p := Prepare(benchEmail)
	if !strings.HasPrefix(p.New, "Hi Bob,") || !strings.HasSuffix(p.New, "Thursday afternoon.") {
		t.Fatalf("benchEmail New = %q", p.New)
	}
	if p.Signature == "" || p.Disclaimer == "" || p.Quoted == "" || p.Banner == "" {
		t.Fatalf("benchEmail cuts: %+v", p.Cuts)
	}
	if got := Prepare(benchChat); got.New != benchChat || got.Changed() {
		t.Fatalf("benchChat changed: %+v", got.Cuts)
	}
}

func BenchmarkPrepareEmail(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEmail)))
	for b.Loop() {
		Prepare(benchEmail)
	}
}

func BenchmarkPrepareChat(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchChat)))
	for b.Loop() {
		Prepare(benchChat)
	}
}

func BenchmarkSummary(b *testing.B) {
	p := Prepare(benchEmail)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Summary()
	}
}
