/**
 * The adaptive poller's pure schedule (rollout/polling.ts), one row per situation: what it knows
 * about an instance and its group's boots → when it looks next. Issue 21 item 3: boots vary from
 * instance to instance, so the schedule searches for the moment each instance goes InService and
 * the moment the ELB passes it, and never takes another instance's figures for a bound.
 */
import test from 'ava';
import { batchLookAt, bootSpread, drainLookAt, earliestPassAt, expectedPassFrom, learn, nextLookAt, pendingGapMs, pinnedGapMs, pinRegistration, poolLookAt, startKind, type Learned, type StartKind, type WatchedInstance } from '../../orchestrator/rollout/polling';

const s = (x: number) => x * 1000;
const ELB = { interval: 10, healthyThreshold: 3 };

test('earliestPassAt: only what AWS reported about this instance — never the shortest boot or pass of another one', (t) => {
  const rows: Array<[string, WatchedInstance, Learned, number | undefined]> = [
    ['just launched: launch + (HealthyThreshold − 1) × Interval', { firstSeen: 0, healthy: false }, {}, s(20)],
    // Issue 21: an earlier instance booted in 180 s and passed at 209 s; this one may boot in 60 s.
    // Taking those as bounds kept even a 1-s poller from asking the ELB for ~100 s (ratio 1.44).
    ['others were slow: still launch + 20 s', { firstSeen: 0, healthy: false }, { bootMs: s(180), passMs: s(209) }, s(20)],
    ['Pending at 70 s: registered after it', { firstSeen: 0, notInServiceAt: s(70), healthy: false }, {}, s(90)],
    ['InService at 75 s, Pending at 70 s', { firstSeen: 0, notInServiceAt: s(70), inServiceSeen: s(75), healthy: false }, {}, s(90)],
    ['passed', { firstSeen: 0, healthy: true }, {}, undefined],
  ];
  for (const [name, w, l, want] of rows) t.is(earliestPassAt(w, ELB, l), want, name);
});

test('bootSpread: the samples widened by their mean gap; one look earlier (floor) for a boot below them all', (t) => {
  t.is(bootSpread([]), undefined);
  // Every boot alike: trust it, one look at n/(n + 1) of it first.
  t.deepEqual(bootSpread([s(90), s(90), s(90)]), { lowMs: s(90), highMs: s(90), floorMs: s(67.5) });
  // 84, 96, 108 → gap 12 → 72–120; floor 84 − max(12, 84/4) = 63.
  t.deepEqual(bootSpread([s(84), s(96), s(108)]), { lowMs: s(72), highMs: s(120), floorMs: s(63) });
  // Many samples over a wide spread: the floor is the widened low end (no extra look).
  const many = Array.from({ length: 11 }, (_, n) => s(60 + 12 * n));
  t.deepEqual(bootSpread(many), { lowMs: s(48), highMs: s(192) });
  t.deepEqual(bootSpread([s(100)]), { lowMs: s(100), highMs: s(100), floorMs: s(50) });
});

test('pendingGapMs: brisk when every boot is alike, ~24.5 s for a 120-s spread, at most 30 s', (t) => {
  t.is(pendingGapMs({ lowMs: s(90), highMs: s(90) }), 1500);
  t.is(Math.round(pendingGapMs({ lowMs: s(60), highMs: s(180) }) / 100) / 10, 24.5);
  t.is(pendingGapMs({ lowMs: 0, highMs: s(1000) }), 30_000);
});

test('nextLookAt while Pending: the floor, then a grid from just before the shortest plausible boot', (t) => {
  const w: WatchedInstance = { firstSeen: 0, healthy: false };
  const spread = { lowMs: s(60), highMs: s(180), floorMs: s(40) };
  const gap = pendingGapMs(spread);
  const rows: Array<[string, number, number]> = [
    ['right after launch: the floor', s(1), s(39.25)],
    ['at the floor: just before the low end', s(39.25), s(59.25)],
    ['a look within a brisk period of the grid point stands for it', s(58.5), s(59.25) + gap],
    ['on the grid', s(59.25) + gap, s(59.25) + 2 * gap],
  ];
  for (const [name, now, want] of rows) t.is(nextLookAt(w, now, ELB, {}, spread), want, name);
  // Past the longest plausible boot: the grid, or a tenth of the time past the low end if longer (≤ 10 s).
  t.is(nextLookAt(w, s(200), ELB, {}, { lowMs: s(90), highMs: s(90) }), s(210));
  // Nothing known: back off with the time since launch.
  t.is(nextLookAt(w, s(50), ELB, {}), s(55));
  // A single boot figure (the A/B runner's estimate) is a spread of width 0: brisk after it.
  t.is(nextLookAt(w, s(1), ELB, {}, s(90)), s(89.25));
  t.is(nextLookAt(w, s(89.25), ELB, {}, s(90)), s(90.75));
});

test('nextLookAt once InService: looks spread over the pass window, the last at its end, then back-off', (t) => {
  // Pinned within 1.5 s (Pending at 89.25, InService at 90.75): it passes in (109.25, 120.75]: three looks.
  const pinned: WatchedInstance = { firstSeen: 0, notInServiceAt: s(89.25), inServiceSeen: s(90.75), healthy: false };
  const third = s(11.5) / 3;
  t.is(nextLookAt(pinned, s(90.75), ELB), s(109.25) + third);
  t.is(nextLookAt(pinned, s(109.25) + third, ELB), s(109.25) + 2 * third);
  t.is(nextLookAt(pinned, s(109.25) + 2 * third, ELB), s(120.75));
  t.is(nextLookAt(pinned, s(120.75), ELB), s(122.25), 'past the end: brisk, backing off');
  t.is(nextLookAt(pinned, s(180.75), ELB), s(186.75));
  // Pinned within 23 s: the window (100, 153] gets ⌈53 / 5⌉ = 11 looks, 4.8 s apart.
  const wide: WatchedInstance = { firstSeen: 0, notInServiceAt: s(80), inServiceSeen: s(123), healthy: false };
  t.is(nextLookAt(wide, s(123), ELB), s(100) + 5 * (s(53) / 11));
  // The ELB's phase as this run saw it (no pass came sooner than 27 s after registering) opens the window later.
  t.is(nextLookAt(pinned, s(90.75), ELB, { passOffsetMs: s(27) }), s(120.75));
  t.is(nextLookAt({ ...pinned, healthy: true }, s(100), ELB), undefined);
});

test('pinRegistration: AWS\'s InService moment (the launch activity\'s EndTime), kept within what the looks saw', (t) => {
  const seen = (): WatchedInstance => ({ firstSeen: 0, notInServiceAt: s(100), inServiceSeen: s(125), healthy: false });
  const rows: Array<[string, number, number]> = [
    ['inside the looks\' window: taken as is', s(103.2), s(103.2)],
    ['before the last Pending look (a clock behind AWS\'s): no earlier than that look', s(90), s(100)],
    ['after the look that saw it InService (a clock ahead): no later than that look', s(140), s(125)],
  ];
  for (const [name, end, want] of rows) {
    const w = seen();
    pinRegistration(w, end);
    t.is(w.registeredAt, want, name);
  }
  const pending: WatchedInstance = { firstSeen: 0, notInServiceAt: s(100), healthy: false };
  pinRegistration(pending, s(99));
  t.is(pending.registeredAt, undefined, 'not seen InService yet: nothing to pin');
});

test('nextLookAt once pinned: the pass window is one Interval after AWS\'s InService moment — two looks instead of seven', (t) => {
  // Pending at 100, InService seen at 125: unpinned it passes in (120, 155] (seven looks, 5 s apart).
  const w: WatchedInstance = { firstSeen: 0, notInServiceAt: s(100), inServiceSeen: s(125), healthy: false };
  t.is(nextLookAt(w, s(125), ELB), s(130));
  pinRegistration(w, 103_200);
  // Registered at 103.2: it passes in (123.2, 133.2]: looks at 128.2 and 133.2.
  t.is(nextLookAt(w, s(125), ELB), 128_200);
  t.is(nextLookAt(w, 128_200, ELB), 133_200);
  // The earliest moment worth a look at the load balancer: 123.2 (the sure bound alone says 120).
  t.is(earliestPassAt(w, ELB), s(120));
  t.is(expectedPassFrom(w, ELB), 123_200);
  // This run's learned phase is not applied to a pinned window (its own phase is drawn anew).
  t.is(nextLookAt(w, s(125), ELB, { passOffsetMs: s(29) }), 128_200);
});

test('nextLookAt while Pending with pins: looks one HealthyThreshold × Interval apart from the floor, (HealthyThreshold − 1.5) × Interval later', (t) => {
  t.is(pinnedGapMs(ELB), s(30));
  t.is(pinnedGapMs({ interval: 5, healthyThreshold: 2 }), s(10));
  t.is(pinnedGapMs({ interval: 30, healthyThreshold: 10 }), s(30), 'at most 30 s');
  t.is(pinnedGapMs(undefined), undefined);
  const spread = bootSpread([s(84), s(96), s(108)])!; // floor 63 s
  const w: WatchedInstance = { firstSeen: 0, healthy: false };
  // Found InService up to (HealthyThreshold − 1) × Interval = 20 s after it registered loses
  // nothing once pinned: the first look 15 s past the floor (a boot at the floor is found 15 s
  // late, for free), then every 30 s (issue 21: the looks while Pending were most of the calls).
  t.is(nextLookAt(w, 0, ELB, {}, spread, 1500, true), s(63 + 15 - 0.75));
  t.is(nextLookAt(w, s(77.25), ELB, {}, spread, 1500, true), s(107.25));
  t.is(nextLookAt(w, s(107.25), ELB, {}, spread, 1500, true), s(137.25));
  // HealthyThreshold 2 (× 5 s): half an Interval past the floor.
  t.is(nextLookAt(w, 0, { interval: 5, healthyThreshold: 2 }, {}, spread, 1500, true), s(63 + 2.5 - 0.75));
});

test('drainLookAt: evenly up to the LATEST drain end, at most 60 s apart; past it, back off with the overrun', (t) => {
  // The worked example: terminated at 196.7 s and 395 s, drain 300 s, now 489.4 s → four looks, the last at 695 s.
  t.is(Math.round(drainLookAt([s(196.7), s(395)], s(300), s(489.4))), Math.round(s(489.4) + s(205.6) / 4));
  t.is(drainLookAt([s(395)], s(300), s(643.6)), s(695));
  // Within a brisk period of the end, or past it: brisk, then a tenth of the overrun (≤ 10 s).
  t.is(drainLookAt([s(395)], s(300), s(694)), s(695.5));
  t.is(drainLookAt([s(395)], s(300), s(735)), s(739));
  t.is(drainLookAt([s(0)], s(300), s(1000)), s(1010));
  // No draining (0 s): the terminated instance leaves at once — look again after a brisk period.
  t.is(drainLookAt([s(100)], 0, s(100)), s(101.5));
});

test('learn: boots (middle of the InService window), the shortest registration → pass seen', (t) => {
  const l: Learned = {};
  learn(l, { firstSeen: 0, notInServiceAt: s(89.25), inServiceSeen: s(90.75), notHealthyAt: s(115), healthy: true });
  learn(l, { firstSeen: s(200), notInServiceAt: s(330), inServiceSeen: s(350), notHealthyAt: s(372), healthy: true });
  t.deepEqual(l.bootsMs, [s(90), s(140)]);
  t.is(l.passOffsetMs, s(22));
  t.is(l.bootMs, s(89.25));
});

test('batchLookAt: while any is Pending, the cheap look for it; once all are InService, the latest look', (t) => {
  t.is(batchLookAt([]), undefined);
  t.is(batchLookAt([{ pending: false, at: 100 }, { pending: true, at: 130 }, { pending: true, at: 120 }]), 120);
  t.is(batchLookAt([{ pending: false, at: 100 }, { pending: false, at: 140 }, { pending: false, at: undefined }]), 140);
});

test('startKind: a warm pool\'s instance is scheduled on warm starts, a cold launch on cold boots (issue 15 item 3)', (t) => {
  const rows: Array<[string, Parameters<typeof startKind>[0], StartKind]> = [
    ['seen in the warm pool', { fromPool: true }, 'warm'],
    ['not seen in the pool (a cold launch), whatever the pool holds', { fromPool: false, inPool: 4 }, 'cold'],
    ['a launch about to be made, the pool holds up-to-date instances', { inPool: 2 }, 'warm'],
    ['a launch about to be made, nothing up to date in the pool', { inPool: 0 }, 'cold'],
    ['no pool', {}, 'cold'],
  ];
  for (const [name, o, want] of rows) t.is(startKind(o), want, name);
});

test('nextLookAt with a pass gap (a warm start, issue 15 item 3): the pass window is looked at that often instead of every 5 s', (t) => {
  // Warm start: Pending at 12 s, InService seen at 13.5 s → it passes in (32, 43.5] (ELB 10 s × 3).
  const w: WatchedInstance = { firstSeen: 0, notInServiceAt: s(12), inServiceSeen: s(13.5), healthy: false };
  t.is(nextLookAt(w, s(32), ELB), s(32) + s(11.5) / 3, 'by default: 3 looks, 3.83 s apart');
  t.is(nextLookAt(w, s(32), ELB, {}, undefined, 1500, false, 1500), s(32) + s(11.5) / 8, 'brisk: 8 looks, 1.44 s apart');
  t.is(nextLookAt(w, s(32), ELB, {}, undefined, 1500, false, 500), s(32) + s(11.5) / 8, 'never closer than brisk');
  t.is(nextLookAt(w, s(43.5), ELB, {}, undefined, 1500, false, 1500), s(43.5) + 1500, 'past the window: back off as before');
});

test('poolLookAt: the warm pool\'s refill is looked at from the latest launch + the shortest plausible cold boot, then every gap; no spread: every 10 s', (t) => {
  const boot = { lowMs: s(60), highMs: s(180) };
  const after = [s(415.8), s(415.8)];
  t.is(poolLookAt(after, s(425.8), boot), s(415.8 + 60 - 0.75), 'nothing can be warmed before the shortest boot');
  t.is(poolLookAt(after, s(475.05), boot), s(480.05), 'then every 5 s (PASS_GAP_MS)');
  t.is(poolLookAt(after, s(500), boot), s(500.05));
  t.is(poolLookAt(after, s(700), boot), s(700.05), 'past the longest boot: still every gap (a look at the pool is one call)');
  t.is(poolLookAt(after, s(475.05), boot, 2500), s(477.55), 'another gap');
  t.is(poolLookAt([s(300), s(415.8)], s(425.8), boot), s(475.05), 'the pool is back when ALL are warmed: the latest launch');
  t.is(poolLookAt(after, s(425.8), { ...boot, floorMs: s(50) }), s(415.8 + 50 - 0.75), 'few samples: the floor');
  t.is(poolLookAt(after, s(425.8), undefined), s(435.8), 'no cold boot known: every 10 s');
  t.is(poolLookAt([], s(425.8), boot), s(435.8), 'no launch known: every 10 s');
});
