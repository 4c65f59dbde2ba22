package ladder

import "github.com/handoff-dev/handoff/ladder/textprep"

// preparedText is a message with the buyer's new words set apart.
type preparedText struct {
	newWords string
	notes    []string // what was set aside, in words, for the trace
}

// prepareText separates the buyer's new words from quoted replies,
// forwarded headers, signatures, disclaimers and banners (package
// textprep). Signals read the new words; the bundle keeps the whole text.
func prepareText(text string) preparedText {
	p := textprep.Prepare(text)
	out := preparedText{newWords: p.New}
	if p.Changed() {
		out.notes = []string{p.Summary()}
	}
	return out
}
