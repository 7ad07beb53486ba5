"""Build the igds docs site offline, without Quarto: nbdev's notebook processing, then MkDocs (Material theme).

    python docs/build.py                 # -> _docs/ (the site), working files under _proc/
    python docs/build.py --no-execute    # skip running the notebooks' examples (faster; code cells show no output)

Steps, each cached by modification time under the work folder (`--force` redoes them):
1. execute (optional): run every notebook in nbs/ (labs excluded) the way `nbdev_test` does, skipping cells flagged
   `slow`, and keep the outputs, so the examples show their values (the committed notebooks carry none);
2. process: nbdev's own processors (`nbdev.processors.FilterDefaults`, what `nbdev_proc_nbs` runs): directives applied,
   export/hide cells dropped, a `show_doc` added for every exported symbol and each `show_doc` rendered;
3. convert each processed notebook to a Markdown page (show_doc output as Markdown, other outputs as code blocks or
   images), link `show_doc` cross-references to the local pages, add the figures of figures/ to the index page;
4. `mkdocs build` with the settings of mkdocs.yml plus a sidebar in pipeline order (notebook number order).

`nbdev_docs` (which needs Quarto) stays available for whoever has Quarto installed.
"""
import argparse, ast, base64, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG_EXT = ('.png', '.svg', '.jpg', '.jpeg', '.gif', '.webp')
GROUPS = {0: 'Foundation', 1: 'Task features and selection', 2: 'Fine-tuning and evaluation', 3: 'Analysis',
          4: 'Experiment grid', 9: 'Command line'}  # sidebar sections by the notebook number's first digit
DOC_URL = 'https://igds.github.io/igds/'  # doc_host + doc_baseurl of settings.ini, rewritten to local links

def notebooks(nbs: Path):
    "Library notebooks in pipeline (number) order, index first, then the labs."
    lib = sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    lib.sort(key=lambda p: (p.stem != 'index', p.stem))
    labs = sorted(p for p in (nbs/'labs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return lib, labs

def _stale(src: Path, dst: Path, deps=()):
    "True when `dst` is missing or older than `src` or any of `deps`."
    if not dst.exists(): return True
    t = dst.stat().st_mtime
    return any(Path(d).stat().st_mtime > t for d in (src, *deps) if Path(d).exists())

# ---------------------------------------------------------------- 1. execute
_SKIP = re.compile(r'^\s*#\|\s*(slow|eval:\s*false)\b', re.M)

def execute_nb(args, log=print):
    "Run notebook `src` in its folder (cells flagged slow skipped), writing it with outputs to `dst`."
    src, dst = map(Path, args)
    os.environ['IN_TEST'] = '1'
    sys.path.insert(0, str(ROOT))
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    nb = read_nb(src)
    def no_eval(cell):
        return cell.cell_type != 'code' or 'nbdev_export(' in cell.source or bool(_SKIP.search(cell.source))
    k = CaptureShell(src)
    with working_directory(src.parent):
        try: k.run_all(nb, exc_stop=True, preproc=no_eval)
        except Exception:  # the notebook tests report it; the page goes on without outputs
            log(f'WARNING: {src.name} failed while running its examples; its page shows code without outputs.\n'
                + k.prettytb(fname=src)[-1500:])
            if dst.exists(): dst.unlink()
            return None
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return str(dst)

# ---------------------------------------------------------------- 2. process (nbdev)
def process_nb(args, log=print):
    "nbdev's docs processing of one notebook (what `nbdev_proc_nbs` does per file): `src` -> `dst`."
    src, dst = map(Path, args)
    os.environ['IN_TEST'] = '1'
    sys.path.insert(0, str(ROOT))
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    from fastcore.xtras import working_directory
    import nbdev.processors as P
    try:
        nb = read_nb(src)
        with working_directory(ROOT/'nbs'): FilterDefaults()(nb)
    except Exception as e:  # nbdev runs every cell holding an import; a cell mixing imports with code can fail there
        log(f'WARNING: nbdev could not process {src.name} ({str(e).splitlines()[0]} {e.__cause__!r}); retrying with '
            'cells that mix imports and other code left unrun (nbdev FAQ: keep imports in cells of their own)')
        orig = P._do_eval
        def strict(cell):
            t = cell.parsed_() if cell.cell_type == 'code' and cell.source else None
            if t and P._ast_contains(t, (ast.Import, ast.ImportFrom)) and P._ast_contains(t, (ast.Expr, ast.Assign)) \
               and not (cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}): return False
            return orig(cell)
        P._do_eval = strict
        try:
            nb = read_nb(src)
            with working_directory(ROOT/'nbs'): FilterDefaults()(nb)
        finally: P._do_eval = orig
    dst.parent.mkdir(parents=True, exist_ok=True)
    write_nb(nb, dst)
    return str(dst)

def _run_all(f, jobs, log):
    "Run `f` over `jobs` in this process, one notebook after another (imports are shared: torch loads once)."
    return [f(j, log) for j in jobs]

# ---------------------------------------------------------------- 3. Markdown pages
_DIREC = re.compile(r'^\s*#\|\s*([\w-]+):?\s*(.*)$')

def _directives(src):
    "The `#| key: value` lines of a cell, and its source without them."
    d, keep = {}, []
    for line in src.splitlines():
        m = _DIREC.match(line)
        if m: d[m.group(1)] = m.group(2).strip()
        else: keep.append(line)
    return d, '\n'.join(keep).strip('\n')

def _fence(text, lang=''):
    "A fenced code block that survives backticks inside `text`."
    ticks = '`' * max(3, max((len(m) for m in re.findall(r'`+', text)), default=0) + 1)
    return f'{ticks}{lang}\n{text.rstrip()}\n{ticks}'

def _join(x): return ''.join(x) if isinstance(x, list) else (x or '')

def _strip_ansi(s): return re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', s)

def _output_md(o, page_stem, imgdir: Path, n):
    "Markdown for one cell output; images are written to `imgdir`."
    t = o.get('output_type')
    if t == 'stream':
        return _fence(_strip_ansi(_join(o.get('text'))), 'text') if _join(o.get('text')).strip() else ''
    if t == 'error': return _fence(_strip_ansi('\n'.join(o.get('traceback', []))), 'text')
    data = o.get('data', {})
    for mime, ext in (('image/png', 'png'), ('image/jpeg', 'jpg')):
        if mime in data:
            imgdir.mkdir(parents=True, exist_ok=True)
            name = f'{page_stem}_{n}.{ext}'
            (imgdir/name).write_bytes(base64.b64decode(_join(data[mime])))
            return f'![]({imgdir.name}/{name})'
    if 'image/svg+xml' in data: return _join(data['image/svg+xml'])
    if 'text/markdown' in data: return _join(data['text/markdown'])
    if 'text/html' in data: return '<div class="nb-output" markdown="0">\n' + _join(data['text/html']) + '\n</div>'
    if 'text/plain' in data: return _fence(_join(data['text/plain']), 'text')
    return ''

def _frontmatter(cell):
    "Title, description and other fields of nbdev's raw frontmatter cell (None if `cell` is not one)."
    src = _join(cell.get('source')).strip()
    if cell.get('cell_type') != 'raw' or not src.startswith('---'): return None
    import yaml
    return yaml.safe_load(src.strip('-\n')) or {}

def _relink(md, prefix):
    "Point show_doc cross-references at the local pages (`models.html#load_model`)."
    return md.replace(DOC_URL, prefix)

def nb_to_md(nb_path: Path, out_md: Path, prefix=''):
    "Write a processed notebook as a Markdown page; returns its title."
    nb = json.loads(nb_path.read_text())
    fm, parts, n = {}, [], 0
    for cell in nb['cells']:
        f = _frontmatter(cell)
        if f is not None: fm = f; continue
        src = _join(cell.get('source'))
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        if cell['cell_type'] != 'code': continue
        d, code = _directives(src)
        if d.get('include') == 'false': continue
        if code.strip() and d.get('echo') != 'false': parts.append(_fence(code, 'python'))
        if d.get('output') == 'false': continue
        for o in cell.get('outputs', []):
            n += 1
            s = _output_md(o, out_md.stem, out_md.parent/(out_md.stem + '_files'), n)
            if s: parts.append(s)
    title = fm.get('title') or nb_path.stem
    head = [f'# {title}'] + ([f'> {fm["description"]}'] if fm.get('description') else [])
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(_relink('\n\n'.join(head + parts), prefix) + '\n')
    return title

def page_name(nb: Path):
    "The page nbdev would give a notebook: `01_models.ipynb` -> `models` (its `output-file`)."
    return 'index' if nb.stem == 'index' else re.sub(r'^\d+[a-z]?_', '', nb.stem)

def figures_section(figdir: Path, site_src: Path, index_md: str):
    "Copy the images of `figdir` into the site; a Markdown section showing those the index does not show yet."
    imgs = sorted(p for p in figdir.rglob('*') if p.suffix.lower() in IMG_EXT) if figdir.exists() else []
    out = []
    for p in imgs:
        rel = p.relative_to(figdir).as_posix()
        dst = site_src/'figures'/rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dst)
        if f'figures/{rel}' not in index_md:
            cap = p.stem.replace('_', ' ').replace('-', ' ')
            out.append(f'<figure class="igds-figure" markdown="1">\n![{cap}](figures/{rel})\n<figcaption>{cap}'
                       f' (<code>figures/{rel}</code>)</figcaption>\n</figure>')
    if not out: return ''
    return ('\n\n## Figures\n\nRegenerated from `figures/results/` by the figures notebook; every image in `figures/`'
            ' is shown here.\n\n' + '\n\n'.join(out) + '\n')

# ---------------------------------------------------------------- 4. MkDocs
def write_mkdocs_yml(base: Path, dest: Path, docs_dir: Path, site_dir: Path, nav):
    "mkdocs.yml of the repo plus the generated folders and sidebar."
    import yaml
    cfg = yaml.safe_load(base.read_text())
    cfg.update(docs_dir=str(docs_dir), site_dir=str(site_dir), nav=nav)
    dest.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return dest

def build(out='_docs', work='_proc', execute=True, force=False, figures='figures', quiet=False):
    "Build the site into `out`; returns the path of its index.html."
    t0 = time.time()
    out, work, figdir = (Path(p) if Path(p).is_absolute() else ROOT/p for p in (out, work, figures))
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if force and work.exists(): shutil.rmtree(work)
    lib, labs = notebooks(ROOT/'nbs')
    deps = [ROOT/'settings.ini', Path(__file__)] + sorted((ROOT/'igds').glob('*.py'))
    # 1. execute the library notebooks (not the labs: they run a real model; `make labs` runs them)
    srcs = {}
    for nb in lib + labs:
        srcs[nb] = nb
        if execute and nb in lib and nb.stem != 'index':
            srcs[nb] = work/'exec'/nb.name
    jobs = [(str(nb), str(s)) for nb, s in srcs.items() if s != nb and _stale(nb, s, deps)]
    if jobs: log(f'executing {len(jobs)} notebook(s): ' + ' '.join(Path(j[0]).name for j in jobs))
    failed = {Path(j[0]) for j, r in zip(jobs, _run_all(execute_nb, jobs, log)) if r is None}
    srcs.update({nb: nb for nb in failed})
    # 2. nbdev's processing
    pdir = work/('nbs-executed' if execute else 'nbs')  # one cache per mode, so switching modes never mixes them
    procd = {nb: pdir/nb.relative_to(ROOT/'nbs') for nb in lib + labs}
    pjobs = [(str(srcs[nb]), str(d)) for nb, d in procd.items() if _stale(srcs[nb], d, deps)]
    if pjobs: log(f'processing {len(pjobs)} notebook(s) with nbdev: ' + ' '.join(Path(j[0]).name for j in pjobs))
    _run_all(process_nb, pjobs, log)
    # 3. Markdown pages and the sidebar
    site_src = work/'site'
    if site_src.exists(): shutil.rmtree(site_src)
    site_src.mkdir(parents=True)
    nav, groups = [], {}
    for nb in lib:
        title = nb_to_md(procd[nb], site_src/f'{page_name(nb)}.md')
        if nb.stem == 'index': nav.insert(0, {'Home': 'index.md'}); continue
        m = re.match(r'(\d)', nb.stem)
        g = GROUPS.get(int(m.group(1)), 'Other') if m else 'Other'
        if g not in groups: groups[g] = []; nav.append({g: groups[g]})
        groups[g].append({f'{nb.stem.split("_")[0]} {title}': f'{page_name(nb)}.md'})
    if labs:
        nav.append({'Labs': [{nb_to_md(procd[nb], site_src/'labs'/f'{nb.stem}.md', prefix='../'): f'labs/{nb.stem}.md'}
                             for nb in labs]})
    index = site_src/'index.md'
    if not index.exists():  # no nbs/index.ipynb yet: the README is the front page
        index.write_text((ROOT/'README.md').read_text() if (ROOT/'README.md').exists() else '# igds\n')
        nav.insert(0, {'Home': 'index.md'})
    index.write_text(index.read_text().replace('](../figures/', '](figures/').replace('src="../figures/', 'src="figures/'))
    index.write_text(index.read_text() + figures_section(figdir, site_src, index.read_text()))
    shutil.copy2(Path(__file__).parent/'igds.css', site_src/'igds.css')
    # 4. MkDocs
    yml = write_mkdocs_yml(ROOT/'mkdocs.yml', work/'mkdocs.yml', site_src, out, nav)
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--clean', '-q', '-f', str(yml)],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode: raise RuntimeError(f'mkdocs build failed:\n{r.stdout}\n{r.stderr}')
    log(f'built {out/"index.html"} ({len(lib) + len(labs)} pages) in {time.time() - t0:.1f} s')
    return out/'index.html'

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='_docs', help='site folder (default _docs)')
    ap.add_argument('--work', default='_proc', help='working folder: executed and processed notebooks, Markdown pages')
    ap.add_argument('--no-execute', dest='execute', action='store_false', help="don't run the notebooks' examples")
    ap.add_argument('--force', action='store_true', help='redo every step, ignoring the cache')
    ap.add_argument('--figures', default='figures', help='folder whose images go on the index page')
    a = ap.parse_args()
    build(a.out, a.work, a.execute, a.force, a.figures)
