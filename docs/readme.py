"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed offline).

    python docs/readme.py
"""
from pathlib import Path
import nbformat

def readme(nb='nbs/index.ipynb', out='README.md'):
    cells = nbformat.read(nb, as_version=4).cells
    parts = [c.source if c.cell_type == 'markdown' else f'```python\n{c.source}\n```' for c in cells if c.source.strip()]
    Path(out).write_text('\n\n'.join(parts) + '\n', encoding='utf-8')

if __name__ == '__main__': readme()
