"""Figure of issue 23: F*'s activation mass by token class per task, before (the first instrument's F*) and after (the
content-features F*), from `igds features report --json` files.

    python experiments/class_shares.py --before runs/report/before.json --after runs/report/after.json \
        --out figures/content_features/class_shares
"""
import argparse, json
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from igds.config import TOKEN_CLASSES

COLOURS = dict(template='#c44e52', content='#4c72b0', response='#55a868')


def rows(path, label):
    return [dict(r, version=label) for r in json.loads(Path(path).read_text())] if path else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--before', required=True); ap.add_argument('--after', default=None)
    ap.add_argument('--out', default='figures/content_features/class_shares')
    a = ap.parse_args()
    rs = rows(a.before, 'v1') + rows(a.after, 'content features')
    rs.sort(key=lambda r: (r['task'], r['version'] != 'v1'))
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{'task':<15}{'F*':<18}{'n':>3}" + ''.join(f'{c:>10}' for c in TOKEN_CLASSES) + '  > 50 % template']
    for r in rs:
        lines.append(f"{r['task']:<15}{r['version']:<18}{r['n_features']:>3}" + ''.join(f"{r['share'][c]:>10.2f}" for c in TOKEN_CLASSES)
                     + f"  {r['template_features']} of {r['n_features']}")
    text = '\n'.join(lines) + f"\n(share of F*'s summed activation on the first {rs[0]['n_examples']} pool examples)\n"
    (out.parent/f'{out.name}.txt').write_text(text); print(text)
    fig, ax = plt.subplots(figsize=(7, 0.45*len(rs) + 1.2))
    labels = [f"{r['task']} · {r['version']} ({r['n_features']})" for r in rs]
    left = [0.0]*len(rs)
    for c in TOKEN_CLASSES:
        v = [r['share'][c] for r in rs]
        ax.barh(labels, v, left=left, color=COLOURS[c], label=c)
        left = [l + x for l, x in zip(left, v)]
    ax.axvline(0.10, color='k', ls=':', lw=1); ax.text(0.105, -0.6, 'goal: template ≤ 0.10', fontsize=8, va='top')
    ax.set_xlim(0, 1); ax.invert_yaxis(); ax.set_xlabel("share of F*'s activation mass")
    ax.legend(ncol=3, loc='lower center', bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout(); fig.savefig(out.with_suffix('.png'), dpi=120); print(f'written: {out}.png, {out}.txt')


if __name__ == '__main__': main()
