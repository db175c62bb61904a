// Command benchratio reads the output of several runs of a benchmark binary
// whose sub-benchmarks end in impl=NAME (as make bench writes
// bench-interop.txt, one run per round) and prints, for each benchmark and
// each other implementation, the median over rounds of the time of
// impl=reasons divided by its time in the same round, with the quartiles:
// below 1, reasons is the faster.
//
// Each ratio pairs two measurements taken seconds apart, so a machine that
// slows down for a while, as a shared virtual machine does, moves both and
// leaves the ratio alone; benchstat's intervals, which compare all of one
// implementation's rounds with all of another's, include that drift.
//
// Usage: go run ./benchratio < ../bench-interop.txt
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result matches a benchmark line: name with impl=, then iterations and ns/op.
var result = regexp.MustCompile(`^Benchmark(\S+)/impl=([\w-]+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	type key struct{ bench, impl string }
	var rounds []map[key]float64
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "goos:") { // each run of the binary starts a round
			rounds = append(rounds, map[key]float64{})
			continue
		}
		m := result.FindStringSubmatch(line)
		if m == nil || len(rounds) == 0 {
			continue
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return fmt.Errorf("%q: %v", line, err)
		}
		rounds[len(rounds)-1][key{m[1], m[2]}] = ns
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(rounds) == 0 {
		return errors.New("no rounds: no line starts with \"goos:\"")
	}
	var keys []key
	for k := range rounds[0] {
		if k.impl != "reasons" {
			if _, ok := rounds[0][key{k.bench, "reasons"}]; ok {
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.bench+"/"+a.impl, b.bench+"/"+b.impl) })
	fmt.Fprintf(out, "time of impl=reasons over time of impl=X in the same round, over %d rounds\n", len(rounds))
	fmt.Fprintf(out, "%-28s %-22s %8s  %s\n", "benchmark", "impl", "median", "quartiles")
	for _, k := range keys {
		var ratios []float64
		for _, r := range rounds {
			ours, peer := r[key{k.bench, "reasons"}], r[k]
			if ours > 0 && peer > 0 {
				ratios = append(ratios, ours/peer)
			}
		}
		if len(ratios) == 0 {
			continue
		}
		slices.Sort(ratios)
		fmt.Fprintf(out, "%-28s %-22s %8.3f  %.3f-%.3f\n", k.bench, k.impl, quantile(ratios, 0.5), quantile(ratios, 0.25), quantile(ratios, 0.75))
	}
	return nil
}

// quantile of sorted s, interpolating between neighbours.
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
