import { describe, expect, it } from 'vitest';
import { normalizedMutualInfo, purity, symbolClassStats, symbolUsage } from '../src';
import { mutualInformation } from '../src/information';
import fixture from './fixtures/stats_reference.json';

const symbols = { data: Int32Array.from(fixture.symbols), shape: [fixture.labels.length, fixture.length] };

describe('NMI and purity against scikit-learn (fixture)', () => {
  it('per position', () => {
    const s = symbolClassStats(symbols, fixture.labels, { lengths: [1, 2, 4, 6] });
    fixture.perPosition.forEach((ref, p) => {
      expect(s.perPosition[p].position).toBe(ref.position);
      expect(s.perPosition[p].nmi).toBeCloseTo(ref.nmi, 12);
      expect(s.perPosition[p].purity).toBeCloseTo(ref.purity, 12);
      expect(s.perPosition[p].distinctCodes).toBe(ref.distinctCodes);
    });
  });

  it('per prefix as a joint code', () => {
    const s = symbolClassStats(symbols, fixture.labels, { lengths: [1, 2, 4, 6] });
    fixture.perPrefix.forEach((ref, i) => {
      expect(s.perPrefix[i].length).toBe(ref.length);
      expect(s.perPrefix[i].nmi).toBeCloseTo(ref.nmi, 12);
      expect(s.perPrefix[i].purity).toBeCloseTo(ref.purity, 12);
      expect(s.perPrefix[i].distinctCodes).toBe(ref.distinctCodes);
    });
  });

  it("sklearn's special cases", () => {
    expect(normalizedMutualInfo([3, 3, 3], [1, 1, 1])).toBe(fixture.special.constantBoth);
    expect(normalizedMutualInfo([0, 1, 0, 1], [5, 5, 5, 5])).toBe(fixture.special.constantOne);
    expect(normalizedMutualInfo([0, 0, 1, 1, 2, 2], [7, 7, 3, 3, 9, 9])).toBeCloseTo(
      fixture.special.permuted,
      14,
    );
    expect(normalizedMutualInfo([0, 0, 1, 1], [0, 1, 0, 1])).toBe(fixture.special.independent);
  });
});

describe('NMI and purity by hand', () => {
  // classes [0,0,1,1], clusters [0,0,0,1]: p(x,y) = 1/2 (0,0), 1/4 (1,0), 1/4 (1,1); p(x) = ½,½; p(y) = ¾,¼.
  // MI = ½ ln(½/(½·¾)) + ¼ ln(¼/(½·¾)) + ¼ ln(¼/(½·¼)) = ½ ln(4/3) + ¼ ln(2/3) + ¼ ln 2.
  // H(classes) = ln 2, H(clusters) = -(¾ ln ¾ + ¼ ln ¼).  Purity: cluster 0 → class 0 (2 of 3), cluster 1 → 1 → 3/4.
  const classes = [0, 0, 1, 1];
  const clusters = [0, 0, 0, 1];
  const mi = 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2);
  const hClusters = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));

  it('mutual information, NMI and purity', () => {
    expect(mutualInformation(classes, clusters)).toBeCloseTo(mi, 14);
    expect(normalizedMutualInfo(classes, clusters)).toBeCloseTo(mi / ((Math.log(2) + hClusters) / 2), 14);
    expect(purity(classes, clusters)).toBe(0.75);
    expect(purity(classes, [4, 4, 4, 4])).toBe(0.5);
    expect(purity(classes, [0, 1, 2, 3])).toBe(1);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => normalizedMutualInfo([0, 1], [0])).toThrow(/labelings have 2 and 1 entries/);
  });
});

describe('symbolUsage', () => {
  it('matches numpy histograms, entropies and perplexities (fixture)', () => {
    const u = symbolUsage(symbols, { vocabSize: fixture.vocabSize });
    expect(u.numSequences).toBe(fixture.labels.length);
    expect(u.length).toBe(fixture.length);
    fixture.usagePerPosition.forEach((ref, p) => {
      expect(Array.from(u.perPosition[p].counts)).toEqual(ref.counts);
      expect(u.perPosition[p].used).toBe(ref.used);
      expect(u.perPosition[p].entropy).toBeCloseTo(ref.entropy, 12);
      expect(u.perPosition[p].perplexity).toBeCloseTo(ref.perplexity, 10);
    });
    expect(Array.from(u.overall.counts)).toEqual(fixture.usageOverall.counts);
    expect(u.overall.used).toBe(10);
    expect(u.overall.usedFraction).toBe(10 / 12);
    expect(u.overall.perplexity).toBeCloseTo(fixture.usageOverall.perplexity, 10);
    expect(u.distinctPerSequence.mean).toBeCloseTo(fixture.distinctPerSequence.mean, 12);
    expect(Array.from(u.distinctPerSequence.histogram)).toEqual(fixture.distinctPerSequence.histogram);
  });

  it('distinct symbols per sequence by hand: a repeating code counts each symbol once', () => {
    const u = symbolUsage([
      [75, 111, 63, 106, 75, 111, 63, 75],
      [1, 2, 3, 4, 5, 6, 7, 8],
      [9, 9, 9, 9, 9, 9, 9, 9],
    ]);
    expect(Array.from(u.distinctPerSequence.histogram)).toEqual([1, 0, 0, 1, 0, 0, 0, 1]);
    expect(u.distinctPerSequence.mean).toBeCloseTo((4 + 8 + 1) / 3, 14);
  });

  it('by hand: uniform over 4 symbols has perplexity 4; a constant position has 1', () => {
    const u = symbolUsage(
      [
        [0, 7],
        [1, 7],
        [2, 7],
        [3, 7],
      ],
      { vocabSize: 8 },
    );
    expect(u.perPosition[0].perplexity).toBeCloseTo(4, 12);
    expect(u.perPosition[0].used).toBe(4);
    expect(u.perPosition[1].perplexity).toBe(1);
    expect(u.perPosition[1].usedFraction).toBe(1 / 8);
    // pooled: symbols 0..3 once each, 7 four times → p = (1/8 ×4, 1/2): H = ½ ln 8 + ½ ln 2 = 2 ln 2
    expect(u.overall.entropy).toBeCloseTo(2 * Math.log(2), 12);
  });

  it('rejects a symbol outside the vocabulary', () => {
    expect(() => symbolUsage([[0, 9]], { vocabSize: 8 })).toThrow(
      /symbol 9 is outside the vocabulary \[0, 8\)/,
    );
  });
});
