package domain

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
)

// Score is one trait's bucket score (1 to 5).
type Score struct {
	Trait string
	Value int
}

// Scores are an application's bucket scores by trait code, sorted by trait: a small slice, not a
// map (a completed application keeps a handful). They read and write as a JSON object.
type Scores []Score

// NewScores returns the scores of m (trait code → score), sorted, the trait codes interned.
func NewScores(m map[string]int) Scores {
	if len(m) == 0 {
		return nil
	}
	s := make(Scores, 0, len(m))
	for trait, v := range m {
		s = append(s, Score{Intern(trait), v})
	}
	slices.SortFunc(s, func(a, b Score) int { return cmp.Compare(a.Trait, b.Trait) })
	return s
}

// Get returns trait's score (0 and false when it has none).
func (s Scores) Get(trait string) (int, bool) {
	for _, sc := range s {
		if sc.Trait == trait {
			return sc.Value, true
		}
	}
	return 0, false
}

// Map returns the scores as a map of trait code to score (nil for none).
func (s Scores) Map() map[string]int {
	if s == nil {
		return nil
	}
	m := make(map[string]int, len(s))
	for _, sc := range s {
		m[sc.Trait] = sc.Value
	}
	return m
}

// MarshalJSON writes the scores as an object, traits in order.
func (s Scores) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, sc := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(sc.Trait)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(sc.Value))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of trait codes to scores.
func (s *Scores) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = NewScores(m)
	return nil
}
