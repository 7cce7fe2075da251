package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// TestCounts pins the number of tiles over the city at the zooms of the tile benchmark.
func TestCounts(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-zooms", "14-16", "-counts"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := "z14\t260\nz15\t912\nz16\t3478\nall\t4650\n"
	if out.String() != want {
		t.Errorf("counts:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestOrder(t *testing.T) {
	list := lines(t, "-zooms", "14")
	first, last := list[0], list[len(list)-1]
	// z14 over the city: columns 10783..10802, rows 5530..5542 (north to south).
	if first != "14/10783/5530" || last != "14/10802/5542" {
		t.Errorf("first %s, last %s", first, last)
	}
	if list[1] != "14/10784/5530" {
		t.Errorf("second tile %s: rows should be walked west to east", list[1])
	}
}

func TestSampleAndShuffle(t *testing.T) {
	all := lines(t, "-zooms", "14-15")
	tests := []struct {
		name    string
		args    []string
		n       int
		ordered bool
	}{
		{"sample keeps the order", []string{"-zooms", "14-15", "-sample", "100", "-seed", "3"}, 100, true},
		{"sample larger than the list", []string{"-zooms", "14-15", "-sample", "5000"}, len(all), true},
		{"shuffle", []string{"-zooms", "14-15", "-shuffle", "-seed", "3"}, len(all), false},
		{"sample and shuffle", []string{"-zooms", "14-15", "-sample", "100", "-shuffle"}, 100, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(t, tc.args...)
			if len(got) != tc.n {
				t.Fatalf("%d tiles, want %d", len(got), tc.n)
			}
			if again := lines(t, tc.args...); !slices.Equal(got, again) {
				t.Error("the same seed gave another list")
			}
			pos := map[string]int{}
			for i, s := range all {
				pos[s] = i
			}
			sorted := true
			for i, s := range got {
				if _, ok := pos[s]; !ok {
					t.Fatalf("tile %s is not over the city", s)
				}
				if i > 0 && pos[s] < pos[got[i-1]] {
					sorted = false
				}
			}
			if sorted != tc.ordered {
				t.Errorf("in list order: %v, want %v", sorted, tc.ordered)
			}
			if seen := slices.Compact(slices.Sorted(slices.Values(got))); len(seen) != len(got) {
				t.Errorf("%d tiles listed twice", len(got)-len(seen))
			}
		})
	}
}

func TestParseZooms(t *testing.T) {
	tests := []struct {
		in   string
		want []maptile.Zoom
	}{
		{"14", []maptile.Zoom{14}},
		{"14-16", []maptile.Zoom{14, 15, 16}},
		{"16,12-13,12", []maptile.Zoom{12, 13, 16}},
	}
	for _, tc := range tests {
		got, err := parseZooms(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseZooms(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseZoomsErrors(t *testing.T) {
	for _, in := range []string{"", "x", "16-14", "-1", "14-23", "14,"} {
		if got, err := parseZooms(in); err == nil {
			t.Errorf("parseZooms(%q) = %v, want an error", in, got)
		}
	}
}

func lines(t *testing.T, args ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if err := run(args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out.String())
}
