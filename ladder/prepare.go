package ladder

// preparedText is a message with the buyer's new words set apart.
type preparedText struct {
	newWords string
	notes    []string // what was set aside, in words, for the trace
}

func prepareText(text string) preparedText { return preparedText{newWords: text} }
