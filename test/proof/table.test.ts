import test from 'ava';
import { markdownTable, outcomeTable, textTable } from '../../orchestrator/proof/table';

test('textTable aligns columns, numbers to the right', (t) => {
  t.is(textTable([['a', 'n'], ['xyz', 5], ['b', 123]]), ['a    n', '---  ---', 'xyz    5', 'b    123'].join('\n'));
});

test('markdownTable escapes pipes and aligns numeric columns', (t) => {
  t.is(markdownTable([['a|b', 'n'], ['x', 1]], ['l', 'r']), '| a\\|b | n |\n|---|---:|\n| x | 1 |');
});

test('outcomeTable counts each run under its strategy and each of its tags, plus a total', (t) => {
  const out = outcomeTable([
    { strategy: 'rolling', tags: ['bad-image', 'throttling'], exit: 1, rerun: false, passed: true },
    { strategy: 'rolling', tags: ['clean'], exit: 0, rerun: false, passed: true },
    { strategy: 'ab', tags: ['throttling'], exit: 0, rerun: false, passed: false },
    { strategy: 'ab', tags: ['refused:both-populated'], exit: 3, rerun: false, passed: true },
  ]);
  const row = (name: string) => out.split('\n').find((l) => l.startsWith(name + ' '))!.trim().split(/\s+/).slice(1).map(Number);
  t.deepEqual(row('strategy:rolling'), [2, 1, 1, 0, 0, 2, 0]);
  t.deepEqual(row('throttling'), [2, 1, 1, 0, 0, 1, 1]);
  t.deepEqual(row('all'), [4, 2, 1, 1, 0, 3, 1]);
});
