package ladder

import (
	"slices"
	"strings"
	"testing"
)

// TestSignalsReadContext: each rule of the analyzer, on a message that a
// phrase list gets wrong, and on its counterpart that it must still get
// right.
func TestSignalsReadContext(t *testing.T) {
	l := mustDefault(t)
	cases := []struct {
		name, text string
		topics     []string
		negated    []string
		human      bool
		lang       string
		note       string // a substring one of the notes must hold
	}{
		{"negation eight words back", "no need for anyone from your team to call me", nil, []string{"human_request"}, false, "en", `negated by "no"`},
		{"the request itself", "can someone from your team call me today?", []string{"human_request"}, nil, true, "en", ""},
		{"dismissal after the topic", "pricing is fine, but we need your pen test before legal signs off", []string{"security"}, []string{"pricing"}, false, "en", "dismissed"},
		{"negated dismissal", "The pricing doesn't work for us. Can you do better?", []string{"pricing"}, nil, false, "en", ""},
		{"past framing", "our old contract renewed without fuss", nil, nil, false, "en", ""},
		{"hypothetical across the clause", "If we ever needed SSO, would that be extra?", nil, []string{"security"}, false, "en", "hypothetical"},
		{"other sense", "is there a vs code extension?", nil, nil, false, "en", "another sense"},
		{"other sense, pricing", "what's the price of lunch near your office?", nil, nil, false, "en", "lunch"},
		{"a mention without an ask", "procurement is me with a credit card", nil, nil, false, "en", "nothing asked"},
		{"a mention with an ask", "who in procurement should we send the forms to?", []string{"legal"}, nil, false, "en", ""},
		{"ask without the keyword", "can you sharpen the pencil on that number?", []string{"pricing"}, nil, false, "en", ""},
		{"an amount", "Can you get us under $60k for the year?", []string{"pricing"}, nil, false, "en", ""},
		{"a percentage", "Could you do 15% off?", []string{"pricing"}, nil, false, "en", ""},
		{"legal mention yields to a price question", "What's this going to run us on an annual contract?", []string{"pricing"}, nil, false, "en", "another topic"},
		{"a longer phrase owns the words", "Please send the order form so we can sign this week.", []string{"buying_intent"}, nil, false, "en", ""},
		{"automatic reply", "Automatic reply: I am out of the office until Monday. For urgent pricing or contract questions contact my colleague.", nil, nil, false, "en", "automatic reply"},
		{"exec meeting", "Can our CEO meet yours next week?", []string{"exec_meeting"}, nil, false, "en", ""},
		{"Spanish pricing", "¿Cuánto nos costaría para 200 usuarios?", []string{"pricing"}, nil, false, "es", ""},
		{"Spanish without accents", "cuanto nos costaria para 200 usuarios?", []string{"pricing"}, nil, false, "es", ""},
		{"German pricing", "Was würde uns das für 250 Nutzer kosten?", []string{"pricing"}, nil, false, "de", ""},
		{"German negation", "Wir brauchen keinen Anruf, danke.", nil, []string{"human_request"}, false, "de", ""},
		{"German dismissal", "Einen AVV brauchen wir nicht.", nil, []string{"legal"}, false, "de", "dismissed"},
		{"French quote", "Pouvez-vous nous faire un devis ?", []string{"pricing"}, nil, false, "fr", ""},
		{"French elision and negation", "Nous n'avons pas besoin de devis pour l'instant.", nil, []string{"pricing"}, false, "fr", ""},
		{"Portuguese pricing", "Quanto custa por usuário? Precisamos de uma proposta.", []string{"pricing"}, nil, false, "pt", ""},
		{"Italian quote", "Ci potete fare un preventivo per 50 utenti?", []string{"pricing"}, nil, false, "it", ""},
		{"Italian human request", "Vorrei parlare con una persona, per favore.", []string{"human_request"}, nil, true, "it", ""},
		{"Spanish condition across ¿", "Por curiosidad: si algún día llegáramos a ser cien personas, ¿tendríamos que firmar algún contrato?", nil, []string{"buying_intent"}, false, "es", "hypothetical"},
	}
	for _, tc := range cases {
		s := l.Signals(tc.text)
		if tc.topics == nil {
			tc.topics = []string{}
		}
		if !slices.Equal(s.Topics, tc.topics) {
			t.Errorf("%s: %q: topics %v, want %v (matches %v, notes %v)", tc.name, tc.text, s.Topics, tc.topics, s.Matches, s.Notes)
		}
		if !slices.Equal(s.Negated, tc.negated) {
			t.Errorf("%s: %q: negated %v, want %v (notes %v)", tc.name, tc.text, s.Negated, tc.negated, s.Notes)
		}
		if s.HumanRequest != tc.human {
			t.Errorf("%s: %q: human_request %v, want %v", tc.name, tc.text, s.HumanRequest, tc.human)
		}
		if s.Language != tc.lang {
			t.Errorf("%s: %q: language %q, want %q", tc.name, tc.text, s.Language, tc.lang)
		}
		if tc.note != "" && !slices.ContainsFunc(s.Notes, func(n string) bool { return strings.Contains(n, tc.note) }) {
			t.Errorf("%s: %q: no note with %q in %v", tc.name, tc.text, tc.note, s.Notes)
		}
	}
}

// TestSentimentByLanguage: each language is scored with its own words; an
// English lexicon reads German "die" and "war" as negative.
func TestSentimentByLanguage(t *testing.T) {
	l := mustDefault(t)
	cases := []struct {
		text string
		sign int
	}{
		{"Danke, das war alles, die Demo war super!", 1},
		{"Das ist inakzeptabel, ich bin sehr enttäuscht.", -1},
		{"Estoy muy molesto, esto es inaceptable.", -1},
		{"Muchas gracias, todo perfecto.", 1},
		{"C'est inadmissible, nous sommes très déçus.", -1},
		{"Estou muito insatisfeito com o suporte.", -1},
		{"Sono molto deluso, è inaccettabile.", -1},
		{"Non è male, anzi, ottimo lavoro.", 1},
	}
	for _, tc := range cases {
		s := l.Signals(tc.text)
		if !s.SentimentKnown {
			t.Errorf("%q: sentiment unknown (language %q)", tc.text, s.Language)
		}
		if tc.sign > 0 && s.Sentiment <= 0.2 || tc.sign < 0 && s.Sentiment >= -0.4 {
			t.Errorf("%q (%s): sentiment %v, want sign %d", tc.text, s.Language, s.Sentiment, tc.sign)
		}
	}
}

// TestQuotedTextIsSetAside: the topics of a quoted reply and a signature
// are not the buyer's; the new words' are.
func TestQuotedTextIsSetAside(t *testing.T) {
	l := mustDefault(t)
	quoted := "Thanks, got it. We'll review internally.\n\nBest,\nDana Whitfield\nContracts Manager | Globex\n\n" +
		"On Tue, Mar 3, 2026 at 10:14 AM Sam <sam@vendor.example> wrote:\n> Attached are our pricing, the MSA and the SOC 2 report.\n"
	if s := l.Signals(quoted); len(s.Topics) != 0 || len(s.Notes) == 0 {
		t.Errorf("quoted reply: topics %v, notes %v", s.Topics, s.Notes)
	}
	ask := "Could you send the MSA for review?\n\nOn Tue, Mar 3, 2026 at 10:14 AM Sam <sam@vendor.example> wrote:\n> Thanks for the call!\n"
	if s := l.Signals(ask); !slices.Equal(s.Topics, []string{"legal"}) {
		t.Errorf("new words: topics %v", s.Topics)
	}
}
