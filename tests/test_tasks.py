"""Task metrics and training labels as the package exports them (a notebook's inline tests run the notebook's own
definitions, so a wrong `igds/*.py` shows only here): exact match compares values, the labels are the response."""
from igds.tasks import MathTask, format_example
from igds.finetune import sft_rows

def test_exact_match_compares_values_not_strings():
    preds = ['so she pays $1,200.', '#### 72.', 'it costs 3.50', '#### 7', 'the numbers are 1,2,3', '#### -4 then #### 4']
    refs = [['#### 1200'], ['#### 72'], ['#### 3.5'], ['#### 8'], ['#### 123'], ['#### -4']]
    assert MathTask().example_stats(preds, refs)[:, 0].tolist() == [1, 1, 1, 0, 0, 1]
    assert MathTask().metric(preds, refs)['exact_match'] == 100*4/6

def test_sft_labels_are_exactly_the_response(tiny):
    "The tokens trained on (labels != -100) decode to the response and its end of turn, and sit where those tokens are."
    tk = tiny[1]
    exs = [dict(instruction='What is 2 plus 3?', response='2 + 3 = 5. #### 5'), dict(instruction='Hi', response='Hello!')]
    for ex, row in zip(exs, sft_rows(tk, exs, 512)):
        prompt, response = format_example(tk, ex)
        n = len(tk(prompt, add_special_tokens=False).input_ids)
        assert row['labels'][:n] == [-100]*n and row['labels'][n:] == row['input_ids'][n:]
        assert tk.decode(row['labels'][n:]) == response
