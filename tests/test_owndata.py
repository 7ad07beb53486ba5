"""Own data (igds.owndata): every format read and written back unchanged, format detection, and every bad input named
by file, line (row) and field. Fixtures are built here in code, plus the committed Alpaca sample."""
import json, re
from pathlib import Path
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Dataset, DatasetDict
from igds.owndata import (DataError, load_rows, read_pool, write_selected, detect_format, drop_overlap, long_examples,
                          token_counts, format_chat, rank_last, check_budget, default_sizes, split_sizes, split_rows,
                          SIZE_RULE)
from igds.select import budget_count
from igds.tasks import repo_data, encode, get_task, format_example

SAMPLE = repo_data()/'own'/'alpaca_sample.jsonl'
ALPACA = [dict(instruction='Add the numbers.', input='2 3', output='5', score=1.5),
          dict(instruction='Say hi in German.', input='', output='Hallo! Grüße, "Welt"', score=None),
          dict(instruction='Name a prime.', output='7', tags=['math', 'easy']),
          dict(instruction='Count to 3.', input=' ', output='1\n2\n3', score=-2)]
SHAREGPT = [dict(id='a', conversations=[dict(**{'from': 'system', 'value': 'Be terse.'}),
                                        dict(**{'from': 'human', 'value': 'Hi'}), dict(**{'from': 'gpt', 'value': 'Yo.'})]),
            dict(id='b', conversations=[dict(**{'from': 'human', 'value': '2+2?'}), dict(**{'from': 'gpt', 'value': '4'}),
                                        dict(**{'from': 'human', 'value': 'and 3+3?'}), dict(**{'from': 'gpt', 'value': '6'})]),
            dict(id='c', conversations=[dict(**{'from': 'human', 'value': 'Übersetze: cat'}),
                                        dict(**{'from': 'gpt', 'value': 'Katze'})])]
MESSAGES = [dict(id=10, messages=[dict(role='system', content='You are helpful.'), dict(role='user', content='Hi'),
                                  dict(role='assistant', content='Hello.'), dict(role='user', content='Bye'),
                                  dict(role='assistant', content='Goodbye.')], weight=0.5),
            dict(id=11, messages=[dict(role='user', content='1+1?'), dict(role='assistant', content='2')], weight=1.0),
            dict(id=12, messages=[dict(role='user', content='Capital of France?'), dict(role='assistant', content='Paris')],
                 weight=2.0)]
CSV_TEXT = ('id,prompt,completion,note\n007,"two\nline prompt",first,1.50\n8,c,"d, with comma",\n'
            '9,e,"quote ""inside""",x\n010,f,g,00\n')


def write_jsonl(p: Path, rows, eol='\n'):
    p.write_text(''.join(json.dumps(r, ensure_ascii=False) + eol for r in rows), encoding='utf-8', newline='')
    return p


def same_rows(written, expected):
    "Rows equal in values, field names and field order, and value types."
    assert len(written) == len(expected)
    for w, e in zip(written, expected):
        assert list(w) == list(e) and w == e
        assert [type(v) for v in w.values()] == [type(v) for v in e.values()]


def round_trip(path, chosen, tmp_path, **kw):
    "read -> choose (ids or rows) -> write -> the written rows are the chosen input rows, in input order."
    pool = read_pool(path, **kw)
    out = write_selected(path, chosen, tmp_path/'out', pool=pool)
    rows = load_rows(path).rows
    idx = sorted({pool['row'][pool['id'].index(c)] if isinstance(c, str) else c for c in chosen})
    same_rows(load_rows(out).rows, [rows[i] for i in idx])
    return pool, out


# --- round trips, one per format and file type ---

def test_alpaca_jsonl_round_trip_is_byte_exact(tmp_path):
    p = write_jsonl(tmp_path/'pool.jsonl', ALPACA, eol='\r\n')
    pool, out = round_trip(p, ['row-3', 'row-0'], tmp_path)
    assert out.name == 'selected.jsonl'
    assert pool['instruction'] == ['Add the numbers.\n\n2 3', 'Say hi in German.', 'Name a prime.', 'Count to 3.']
    assert pool['id'] == ['row-0', 'row-1', 'row-2', 'row-3'] and pool['row'] == [0, 1, 2, 3]
    assert pool['references'] == [[r['output']] for r in ALPACA]
    lines = p.read_bytes().split(b'\n')
    assert out.read_bytes() == lines[0] + b'\n' + lines[3] + b'\n'  # each row's bytes unchanged, \r included


def test_sharegpt_json_array_round_trip(tmp_path):
    p = tmp_path/'chats.json'
    p.write_text(json.dumps(SHAREGPT, indent=2, ensure_ascii=False), encoding='utf-8')
    pool, out = round_trip(p, ['c', 'a'], tmp_path)
    assert out.name == 'selected.json' and isinstance(json.loads(out.read_text()), list)
    assert pool['response'] == ['Yo.', '6', 'Katze']
    assert pool[1]['messages'] == [dict(role='user', content='2+2?'), dict(role='assistant', content='4'),
                                   dict(role='user', content='and 3+3?')]
    assert pool['instruction'][0] == 'System: Be terse.\n\nUser: Hi'


def test_json_lines_in_a_json_file_round_trip(tmp_path):
    p = write_jsonl(tmp_path/'pool.json', ALPACA)
    _, out = round_trip(p, [2, 1], tmp_path)
    assert out.name == 'selected.json' and out.read_text().count('\n') == 2


def test_messages_parquet_round_trip_keeps_the_schema(tmp_path):
    p = tmp_path/'chat.parquet'
    t = pa.Table.from_pylist(MESSAGES)
    pq.write_table(t.set_column(0, 'id', t['id'].cast(pa.int32())).replace_schema_metadata({'source': 'igds test'}), p)
    pool, out = round_trip(p, ['12', '10'], tmp_path)
    assert out.name == 'selected.parquet'
    assert pq.read_schema(out) == pq.read_schema(p)
    assert pool['id'] == ['10', '11', '12'] and pool['response'] == ['Goodbye.', '2', 'Paris']
    assert [len(m) for m in pool['messages']] == [4, 1, 1]


def test_csv_round_trip_keeps_text_as_written(tmp_path):
    p = tmp_path/'pool.csv'
    p.write_text(CSV_TEXT, encoding='utf-8')
    pool, out = round_trip(p, ['010', '007', '9'], tmp_path)
    assert pool['id'] == ['007', '8', '9', '010'] and pool['response'][2] == 'quote "inside"'
    assert out.read_text() == 'id,prompt,completion,note\n007,"two\nline prompt",first,1.50\n9,e,"quote ""inside""",x\n010,f,g,00\n'


def test_tsv_and_custom_fields_round_trip(tmp_path):
    p = tmp_path/'pool.tsv'
    p.write_text('question\tanswer\textra\nq1\ta1\t1\nq2\ta2\t2\n', encoding='utf-8')
    pool, out = round_trip(p, [1], tmp_path, prompt_field='question', response_field='answer')
    assert out.name == 'selected.tsv' and pool['instruction'] == ['q1', 'q2']
    assert out.read_text() == 'question\tanswer\textra\nq2\ta2\t2\n'


def test_save_to_disk_round_trip(tmp_path):
    d = tmp_path/'saved'
    Dataset.from_list([dict(prompt=f'p{i}', response=f'r{i}', n=i) for i in range(5)]).save_to_disk(str(d))
    pool, out = round_trip(d, [4, 0, 2], tmp_path)
    assert out == tmp_path/'out'/'selected' and (out/'dataset_info.json').exists()
    assert Dataset.load_from_disk(str(out))['n'] == [0, 2, 4]


def test_dataset_dict_split(tmp_path):
    d = tmp_path/'dd'
    DatasetDict(train=Dataset.from_list([dict(prompt='a', response='b')]),
                test=Dataset.from_list([dict(prompt='c', response='d'), dict(prompt='e', response='f')])).save_to_disk(str(d))
    assert read_pool(d, split='test')['response'] == ['d', 'f']
    with pytest.raises(DataError, match=r"dd: no split 'dev'; splits: \['test', 'train'\]"): read_pool(d, split='dev')


def test_hub_id_is_tried_only_for_owner_name_and_fails_clearly_offline(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(DataError, match='nobody-igds/no-such-set: not a local file, and not a Hub data set that loads'):
        read_pool('nobody-igds/no-such-set')
    with pytest.raises(FileNotFoundError): read_pool('nobody-igds/no-such-file.jsonl')


def test_selection_by_rows_and_ids_agrees_and_is_checked(tmp_path):
    p = write_jsonl(tmp_path/'pool.jsonl', ALPACA)
    a = write_selected(p, ['row-2', 'row-1', 'row-2'], tmp_path/'a').read_bytes()
    assert write_selected(p, np.array([1, 2]), tmp_path/'b').read_bytes() == a
    with pytest.raises(DataError, match=r"pool.jsonl: field 'id': 1 selected id\(s\) are not in the pool: \['nope'\]"):
        write_selected(p, ['row-1', 'nope'], tmp_path/'c')
    with pytest.raises(DataError, match=r"pool.jsonl: the selection must be ids or row numbers in \[0, 4\): \[4\]"):
        write_selected(p, [0, 4], tmp_path/'c')


def test_committed_alpaca_sample_reads_as_the_built_in_tasks():
    pool = read_pool(SAMPLE)
    assert len(pool) == 60 and len(set(pool['id'])) == 60
    for k, name in enumerate(('math', 'summarization', 'translation')):
        task = get_task(name).load('train', 'samples').select(range(20))
        part = pool.select(range(20*k, 20*k + 20))
        assert part['instruction'] == task['instruction'] and part['response'] == task['response']


# --- detection ---

@pytest.mark.parametrize('row,fmt', [
    (dict(instruction='a', input='b', output='c'), 'alpaca'), (dict(instruction='a', output='c'), 'alpaca'),
    (dict(conversations=[]), 'sharegpt'), (dict(messages=[], id=1), 'messages'),
    (dict(prompt='a', response='b'), 'prompt_response'), (dict(prompt='a', completion='b'), 'prompt_response'),
    (dict(instruction='a', response='b'), None), (dict(question='a', answer='b'), None)])
def test_detect_format(row, fmt):
    assert detect_format(row) == fmt


def test_format_override_reads_rows_the_detection_would_not(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [dict(prompt='a', completion='b', output='x', instruction='i')])
    assert read_pool(p)['response'] == ['x']                      # instruction+output wins the detection
    assert read_pool(p, fmt='prompt_response')['response'] == ['b']
    with pytest.raises(ValueError, match="unknown format 'chatml'"): read_pool(p, fmt='chatml')


# --- bad input: each error names the file, the line (row) and the field ---

def bad(path, **kw):
    with pytest.raises(DataError) as e: read_pool(path, **kw)
    return str(e.value)


def test_unknown_format_names_line_and_fields(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [dict(question='q', answer='a')])
    assert f"{p}:1 (row 0): unknown format: fields ['answer', 'question']" in bad(p)


def test_mixed_formats_say_what_was_detected_per_row(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [ALPACA[0], ALPACA[1], SHAREGPT[0], ALPACA[2]])
    msg = bad(p)
    assert f"{p}: mixed formats (alpaca: 3 rows, sharegpt: 1 row)" in msg
    assert f"{p}:3 (row 2): field 'conversations': detected sharegpt, but most rows are alpaca" in msg


def test_missing_and_empty_responses(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [ALPACA[0], dict(instruction='a', input=''), dict(instruction='b', output='  ')])
    msg = bad(p, fmt='alpaca')
    assert f"{p}:2 (row 1): field 'output': missing response" in msg
    assert f"{p}:3 (row 2): field 'output': empty response" in msg
    p = write_jsonl(tmp_path/'m.jsonl', [dict(messages=[dict(role='user', content='a'), dict(role='assistant', content='')]),
                                         dict(messages=[dict(role='user', content='a')]),
                                         dict(messages=[dict(role='user', content='a'), dict(role='robot', content='b')])])
    msg = bad(p)
    assert f"{p}:1 (row 0): field 'messages[1].content': empty response" in msg
    assert f"{p}:2 (row 1): field 'messages[0].content': missing response: the last turn is 'user'" in msg
    assert f"{p}:3 (row 2): field 'messages[1].role': unknown role 'robot'" in msg
    p = tmp_path/'s.json'
    p.write_text(json.dumps([dict(conversations=[{'from': 'human', 'value': 'a'}, {'from': 'gpt', 'value': 5}])], indent=1))
    assert f"{p}:2 (row 0): field 'conversations[1].value': the text must be a string, got int" in bad(p)
    p = tmp_path/'c.csv'
    p.write_text('prompt,response\na,b\nc,\n')
    assert f"{p}:3 (row 1): field 'response': empty response" in bad(p)


def test_a_row_missing_its_response_in_a_detected_file_names_the_field(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [ALPACA[0], dict(instruction='a', input=''), ALPACA[1]])
    assert f"{p}:2 (row 1): field 'output': missing response" in bad(p)
    p = write_jsonl(tmp_path/'q.jsonl', [dict(instruction='a', input='')])  # no row says what the file is
    assert f"{p}:1 (row 0): unknown format" in bad(p)


def test_duplicate_ids(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [dict(id=1, prompt='a', response='b'), dict(id='2', prompt='c', response='d'),
                                         dict(id='1', prompt='e', response='f')])
    assert f"{p}:3 (row 2): field 'id': duplicate id '1' (first at {p}:1 (row 0))" in bad(p)
    assert read_pool(p, id_field='none')['id'] == ['row-0', 'row-1', 'row-2']


def test_bytes_that_are_not_utf8(tmp_path):
    p = tmp_path/'p.jsonl'
    p.write_bytes(b'{"prompt": "a", "response": "b"}\n{"prompt": "c\xe9", "response": "d"}\n')
    assert (f"{p}:2 (row 1, field 'prompt'): bytes that are not UTF-8 (b'\\xe9') at byte 13 of the line "
            f"(byte 46 of the file)") in bad(p)
    p = tmp_path/'p.csv'
    p.write_bytes(b'prompt,response\na,b\nc,d\xff\n')
    assert f"{p}:3 (row 1, field 'response'): bytes that are not UTF-8 (b'\\xff') at byte 3 of the line" in bad(p)


def test_empty_files(tmp_path):
    for name, text in (('a.jsonl', ''), ('b.jsonl', '\n \n'), ('c.json', '[]'), ('d.csv', ''), ('e.csv', 'prompt,response\n')):
        (tmp_path/name).write_text(text)
        assert bad(tmp_path/name) == f"{tmp_path/name}: empty: no rows to read"
    pq.write_table(pa.table({'prompt': pa.array([], pa.string())}), tmp_path/'f.parquet')
    assert bad(tmp_path/'f.parquet') == f"{tmp_path/'f.parquet'}: empty: no rows to read"


def test_malformed_files_name_the_line(tmp_path):
    p = tmp_path/'p.jsonl'
    p.write_text('{"prompt": "a", "response": "b"}\n{"prompt": "c",\n')
    assert f"{p}:2: invalid JSON at column" in bad(p)
    p = tmp_path/'p.json'
    p.write_text('[\n {"prompt": "a", "response": "b"},\n {"prompt": }\n]')
    assert f"{p}:3: invalid JSON at column" in bad(p)
    p = tmp_path/'p.csv'
    p.write_text('prompt,response\na,b\nc,d,e\n')
    assert f"{p}:3 (row 1): 3 fields, but the header has 2" in bad(p)


def test_a_long_report_shows_the_first_problems_and_the_count(tmp_path):
    p = write_jsonl(tmp_path/'p.jsonl', [dict(prompt=f'p{i}', response='') for i in range(30)])
    msg = bad(p)
    assert msg.startswith('30 problems:') and msg.endswith('... and 10 more') and f"{p}:20 (row 19)" in msg


def test_probe_overlap_is_reported_and_removed(tmp_path):
    pool = read_pool(write_jsonl(tmp_path/'pool.jsonl', [dict(id='x', prompt='a', response='b'),
                                                         dict(id='y', prompt='c', response='d'),
                                                         dict(id='z', prompt='e', response='f')]))
    probe = read_pool(write_jsonl(tmp_path/'probe.jsonl', [dict(prompt='c', response='d'), dict(id='z', prompt='q', response='r')]))
    kept, report = drop_overlap(pool, probe, 'pool.jsonl', 'probe.jsonl')
    assert kept['id'] == ['x']
    assert report == ["pool.jsonl row 1 (id 'y'): fields 'prompt', 'response': the same as probe.jsonl row 0",
                      "pool.jsonl row 2: field 'id': id 'z' is also probe.jsonl row 1"]
    assert drop_overlap(pool, probe, remove=False)[0]['id'] == ['x', 'y', 'z']
    auto = read_pool(write_jsonl(tmp_path/'auto.jsonl', [dict(prompt='g', response='h')]))   # row-0 in both: no overlap
    assert drop_overlap(read_pool(write_jsonl(tmp_path/'p2.jsonl', [dict(prompt='a', response='b')])), auto)[1] == []


def test_row_messages_name_the_files_own_fields(tmp_path):
    "Overlap and over-long lines name the fields of the user's file, whatever its layout, not igds' normalised ones."
    from igds.models import tiny_tokenizer
    rows = dict(sharegpt=[dict(conversations=[{'from': 'human', 'value': 'a b c'}, {'from': 'gpt', 'value': 'd e'}])],
                messages=[dict(messages=[dict(role='user', content='a b c'), dict(role='assistant', content='d e')])],
                completion=[dict(prompt='a b c', completion='d e')],
                alpaca=[dict(instruction='a b c', output='d e')])
    want = dict(sharegpt="'conversations'", messages="'messages'", completion="'prompt', 'completion'",
                alpaca="'instruction', 'output'")
    for name, r in rows.items():
        ds = read_pool(write_jsonl(tmp_path/f'{name}.jsonl', r))
        assert long_examples(ds, tiny_tokenizer(), 1, 'f')[2] == [f"f row 0 (id 'row-0'): fields {want[name]}: "
                                                                 f"{token_counts(ds, tiny_tokenizer())[0]} tokens > "
                                                                 f"max_length 1; ranked last, not cut"]
        assert drop_overlap(ds, ds, 'f', 'g')[1] == [f"f row 0 (id 'row-0'): fields {want[name]}: the same as g row 0"]
    csv = tmp_path/'any.csv'; csv.write_text('q,a\nx y,z\n')
    ds = read_pool(csv, prompt_field='q', response_field='a')
    assert drop_overlap(ds, ds, 'f', 'g')[1] == ["f row 0 (id 'row-0'): fields 'q', 'a': the same as g row 0"]


def test_long_examples_are_counted_reported_and_ranked_last():
    from igds.models import tiny_tokenizer
    tk = tiny_tokenizer()
    pool = read_pool(SAMPLE)
    n = token_counts(pool, tk)
    assert n.tolist() == [len(encode(tk, ex)['input_ids']) for ex in pool]   # the tokens training sees, uncut
    assert token_counts(pool, tk, chunk=7).tolist() == n.tolist()   # counted in chunks, the same
    limit = int(np.median(n))
    long, counts, report = long_examples(pool, tk, limit, 'alpaca_sample.jsonl')
    assert long.tolist() == (n > limit).tolist() and 0 < len(report) == long.sum() < len(pool)
    i = int(np.flatnonzero(long)[0])
    assert report[0] == (f"alpaca_sample.jsonl row {i} (id 'row-{i}'): fields 'instruction', 'input', 'output': "
                         f"{n[i]} tokens > max_length {limit}; ranked last, not cut")
    order = rank_last(np.arange(len(pool), dtype=float), long)   # longest-index best, but the long ones come last
    assert not long[order[:len(pool) - long.sum()]].any() and long[order[len(pool) - long.sum():]].all()


def test_multi_turn_chat_formats_every_prompt_turn():
    from igds.models import tiny_tokenizer
    tk = tiny_tokenizer()
    ex = dict(instruction='x', response='Goodbye.', messages=MESSAGES[0]['messages'][:4])
    prompt, response = format_chat(tk, ex)
    assert prompt == tk.apply_chat_template(ex['messages'], tokenize=False, add_generation_prompt=True)
    assert all(m['content'] in prompt for m in ex['messages']) and response.startswith('Goodbye.')
    single = dict(instruction='Hi', response='Yo', messages=[dict(role='user', content='Hi')])
    assert format_chat(tk, single) == format_example(tk, single)


def test_budget_larger_than_the_pool():
    with pytest.raises(DataError, match=r'pool.jsonl: budget 61 is larger than the pool \(60 examples\)'):
        check_budget(61, 60, 'pool.jsonl')
    assert [check_budget(b, 60) for b in (0.5, 1, 60, 0.01)] == [budget_count(b, 60) for b in (0.5, 1, 60, 0.01)]


# --- split sizes of a small data set ---

@pytest.mark.parametrize('n', [1, 9, 10, 37, 700, 1279, 1280, 5000])
def test_default_sizes_follow_the_rule_and_fit(n):
    s = default_sizes(n)
    assert sum(s.values()) == n and s['pool_size'] >= 1
    for k, (cap, pct) in SIZE_RULE.items(): assert s[k] == min(cap, n*pct//100)
    assert split_sizes(n) == s


def test_sizes_that_do_not_fit_name_sizes_that_do():
    with pytest.raises(DataError) as e: split_sizes(700, 'math.jsonl', probe_size=256, pool_size=1000)
    msg = str(e.value)
    assert msg.startswith('math.jsonl: 700 rows do not hold the splits asked (probe_size=256, dev_select_size=64, '
                          'dev_check_size=64, pool_size=1000: 1384 rows')
    fits = re.findall(r'((?:\w+_size=\d+, ){3}\w+_size=\d+)', msg.split('sizes that fit: ')[1])
    assert len(fits) == 2
    for f in fits:   # every set offered fits
        sizes = {k: int(v) for k, v in (kv.split('=') for kv in f.split(', '))}
        assert split_sizes(700, **sizes) == sizes
    with pytest.raises(DataError, match='0 rows do not hold the splits asked .*no split fits: add rows'): split_sizes(0)


def test_split_rows_cuts_disjoint_splits_as_make_splits():
    pool = read_pool(SAMPLE)
    parts = split_rows(pool, default_sizes(len(pool)), seed=3)
    assert {k: len(v) for k, v in parts.items()} == dict(dev_select=6, dev_check=6, probe=24, pool=24)
    rows = [r for v in parts.values() for r in v['row']]
    assert sorted(rows) == list(range(60))
    assert split_rows(pool, default_sizes(len(pool)), seed=3)['pool']['row'] == parts['pool']['row']
