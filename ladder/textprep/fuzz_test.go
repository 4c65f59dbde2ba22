package textprep

import "testing"

func FuzzPrepare(f *testing.F) {
	f.Add(benchEmail)
	f.Add(benchChat)
	f.Add("")
	f.Add("\n\n>\n")
	f.Add("[External]")
	f.Add("Thanks, Ana")
	f.Add("---------- Forwarded message ---------\nFrom: a\nTo: b\n\n---------- Forwarded message ---------\nFrom: c\nTo: d\n")
	f.Add("On Mon, 2 Mar 2026 Ana <a@b>\nwrote:\n> x\ny\n-- \nz")
	f.Add("From: a\nSent: b\nFrom: c\nSent: d\nFrom: e\nSent: f\nFrom: g\nSent: h\nbody")
	f.Add("CAUTION: outside\nx\n\nBest,\nA\n\nDISCLAIMER\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		p := Prepare(in)
		checkInvariants(t, in, p)
		_ = p.Summary()
	})
}
