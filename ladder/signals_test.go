package ladder

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/handoff-dev/handoff"
)

func TestSignalsTopics(t *testing.T) {
	l := mustDefault(t)
	cases := []struct {
		text          string
		topics        []string
		negated       []string
		human         bool
		sentimentSign int // -1, 0 (|s| < 0.05) or 1; 2 = don't care
	}{
		{"What's the price for 50 seats?", []string{"pricing"}, nil, false, 2},
		{"Pricing looks high, and the prices went up.", []string{"pricing"}, nil, false, 2},              // inflections
		{"How much is it PER SEAT?", []string{"pricing"}, nil, false, 2},                                 // multi-word, case
		{"We need the indemnification clause reviewed.", []string{"legal"}, nil, false, 2},               // wildcard
		{"Is the liability capped? Indemnities?", []string{"legal"}, nil, false, 2},                      // wildcard, inflection
		{"Do you support SSO and have a SOC 2 report?", []string{"security"}, nil, false, 2},             // multi-word with digits
		{"Our pen-test vendor will call.", []string{"security"}, nil, false, 2},                          // hyphen splits words
		{"We don't need a contract yet.", []string{}, []string{"legal"}, false, 2},                       // negation
		{"We don’t need a contract yet.", []string{}, []string{"legal"}, false, 2},                       // curly apostrophe
		{"No contract needed, but what is the price?", []string{"pricing"}, []string{"legal"}, false, 2}, // clause boundary
		{"We don't need a contract, but send the MSA anyway.", []string{"legal"}, nil, false, 2},         // one mention negated, one not
		{"I don't know the price yet.", []string{"pricing"}, nil, false, 2},                              // pseudo-negation
		{"The contractor surprised us; it was pricey.", []string{}, nil, false, 2},                       // word boundaries
		{"We are comparing costs versus Gong.", []string{"pricing", "competitor"}, nil, false, 2},
		{"Can I talk to a real person?", []string{"human_request"}, nil, true, 2},
		{"Please have a sales rep call me.", []string{"human_request"}, nil, true, 2},
		{"I'd like to speak with someone from your team", []string{"human_request"}, nil, true, 2}, // built-in phrase, which the ladder's human_request topic takes
		{"No need to talk to a human, thanks!", []string{}, []string{"human_request"}, false, 2},
		{"I love it, this is great!", []string{}, nil, false, 1},
		{"This is terrible and I'm angry.", []string{}, nil, false, -1},
		{"", []string{}, nil, false, 0},
		{"The report is attached.", []string{}, nil, false, 0},
	}
	for _, tc := range cases {
		s := l.Signals(tc.text)
		if !slices.Equal(s.Topics, tc.topics) {
			t.Errorf("%q: topics %v, want %v (matches %v)", tc.text, s.Topics, tc.topics, s.Matches)
		}
		if !slices.Equal(s.Negated, tc.negated) {
			t.Errorf("%q: negated %v, want %v", tc.text, s.Negated, tc.negated)
		}
		if s.HumanRequest != tc.human {
			t.Errorf("%q: human_request %v, want %v", tc.text, s.HumanRequest, tc.human)
		}
		switch tc.sentimentSign {
		case 1:
			if s.Sentiment <= 0.3 {
				t.Errorf("%q: sentiment %v, want positive", tc.text, s.Sentiment)
			}
		case -1:
			if s.Sentiment >= -0.3 {
				t.Errorf("%q: sentiment %v, want negative", tc.text, s.Sentiment)
			}
		case 0:
			if s.Sentiment > 0.05 || s.Sentiment < -0.05 {
				t.Errorf("%q: sentiment %v, want neutral", tc.text, s.Sentiment)
			}
		}
		if s.Topics == nil {
			t.Errorf("%q: nil topics (want an empty list)", tc.text)
		}
	}
}

func TestSignalsMatches(t *testing.T) {
	l := mustDefault(t)
	s := l.Signals("Send a quote with the discount, and the MSA. Indemnification too.")
	want := map[string][]string{"pricing": {"quote", "discount"}, "legal": {"msa", "indemnif*"}}
	if !reflect.DeepEqual(s.Matches, want) {
		t.Errorf("matches %v, want %v", s.Matches, want)
	}
}

func TestSignalsCustomNegationAndHumanPhrases(t *testing.T) {
	y := `version: n
negations: [skip]
human_request: {phrases: ["ping my rep"]}
topics:
  legal: {phrases: [contract]}
  pricing: {phrases: [price], negation: false}
  escalate: {phrases: ["talk to * manager"]}
rungs:
  - id: r
    when: "'legal' in signals.topics"
    action: assist
    route: {owner: counsel@acme.example}
`
	l, err := Parse("n.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if s := l.Signals("skip the contract"); len(s.Topics) != 0 || !slices.Equal(s.Negated, []string{"legal"}) {
		t.Errorf("custom negation: %+v", s)
	}
	if s := l.Signals("we don't care about price"); !slices.Equal(s.Topics, []string{"pricing"}) {
		t.Errorf("negation: false topic was negated: %+v", s)
	}
	if s := l.Signals("can I talk to your manager"); !slices.Equal(s.Topics, []string{"escalate"}) {
		t.Errorf("word wildcard: %+v", s)
	}
	if s := l.Signals("can I talk to manager"); len(s.Topics) != 0 {
		t.Errorf("word wildcard matched no word: %+v", s)
	}
	if s := l.Signals("please ping my rep"); !s.HumanRequest {
		t.Errorf("custom human phrase not detected: %+v", s)
	}
}

func TestCompileWordInflections(t *testing.T) {
	cases := map[string][]string{
		"price":    {"price", "prices", "priced", "pricing", "price's"},
		"contract": {"contract", "contracts", "contracted", "contracting"},
		"policy":   {"policy", "policies"},
		"discount": {"discount", "discounts", "discounted", "discounting"},
		"terms":    {"terms", "term"},
		"sso":      {"sso"},
	}
	for w, forms := range cases {
		p := compileWord(w)
		for _, f := range forms {
			if !p.match(f) {
				t.Errorf("%s does not match %s (forms %v)", w, f, p.forms)
			}
		}
	}
	if p := compileWord("price"); p.match("pricey") || p.match("surprise") {
		t.Error("price matches unrelated words")
	}
	if p := compileWord("vs"); len(p.forms) != 1 {
		t.Errorf("short word inflected: %v", p.forms)
	}
}

// Every `cel`-tagged field of the context has an accessor (used for the
// trace and templates), and the accessor reads that field.
func TestAccessorsCoverTheContext(t *testing.T) {
	var c handoff.Context
	ct := reflect.TypeOf(c)
	for i := range ct.NumField() {
		top := ct.Field(i)
		name := top.Tag.Get("cel")
		if top.Type.Kind() != reflect.Struct {
			if _, ok := getters[name]; !ok {
				t.Errorf("no accessor for %s", name)
			}
			continue
		}
		for j := range top.Type.NumField() {
			f := top.Type.Field(j)
			tag := f.Tag.Get("cel")
			if tag == "-" || tag == "" {
				continue
			}
			path := name + "." + tag
			get, ok := getters[path]
			if !ok {
				t.Errorf("no accessor for %s", path)
				continue
			}
			// Set the field to a non-zero value and read it back.
			v := reflect.ValueOf(&c).Elem().Field(i).Field(j)
			switch v.Kind() {
			case reflect.String:
				v.SetString("x-" + path)
			case reflect.Int64:
				v.SetInt(int64(len(path)))
			case reflect.Float64:
				v.SetFloat(float64(len(path)) / 100)
			case reflect.Bool:
				v.SetBool(true)
			case reflect.Slice:
				v.Set(reflect.ValueOf([]string{path}))
			case reflect.Map:
				v.Set(reflect.ValueOf(map[string]int64{path: 1}))
			}
			if got := goValue(get(&c)); !reflect.DeepEqual(got, v.Interface()) {
				t.Errorf("getter %s = %#v, field holds %#v", path, got, v.Interface())
			}
			if acc, ok := accessors[path]; !ok {
				t.Errorf("no accessor for %s", path)
			} else if got := acc(&c); !reflect.DeepEqual(got, v.Interface()) {
				t.Errorf("accessor %s = %#v, field holds %#v", path, got, v.Interface())
			}
		}
	}
	if len(accessors) != len(getters) {
		t.Errorf("%d accessors, %d getters", len(accessors), len(getters))
	}
	for path := range getters {
		if strings.Count(path, ".") > 1 {
			t.Errorf("unexpected accessor %s", path)
		}
	}
}

// goValue turns a getter's CEL value into a plain Go value.
func goValue(v ref.Val) any {
	switch x := v.(type) {
	case types.String:
		return string(x)
	case types.Double:
		return float64(x)
	case types.Int:
		return int64(x)
	case types.Bool:
		return bool(x)
	}
	switch x := v.Value().(type) {
	case []string:
		return slices.Clone(x)
	case map[string]int64:
		return maps.Clone(x)
	default:
		return x
	}
}

func TestSentimentTrend(t *testing.T) {
	cases := []struct {
		h    []float64
		want float64
	}{
		{nil, 0}, {[]float64{0.5}, 0}, {[]float64{0.6, 0.1, -0.4}, -1}, {[]float64{-1, 1}, 2}, {[]float64{0.2, 0.2}, 0},
	}
	for _, tc := range cases {
		if got := SentimentTrend(tc.h); got != tc.want {
			t.Errorf("SentimentTrend(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}
