"""The docs site: built once per session (docs/build.py, nbdev processing + MkDocs) and checked in headless Chromium.

Chromium is Debian's `chromium` + `chromium-driver`; when missing they are installed with apt-get (as root), and the
browser tests are skipped, with the reason, only when that is impossible. Screenshots go to a temporary folder
(or to $IGDS_DOCS_SCREENSHOTS), never into the repo.
"""
import importlib, importlib.util, json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location('igds_docs_build', ROOT/'docs'/'build.py')
docs_build = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(docs_build)  # docs/build.py

CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage', '--window-size=1400,1000']

def _chromium():
    "Paths of chromium and chromedriver, installing Debian's packages when missing; (None, reason) if impossible."
    def found(): return shutil.which('chromium'), shutil.which('chromedriver')
    if all(found()): return found()
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        return None, 'chromium/chromedriver missing and apt-get not usable here (not root): apt-get install chromium chromium-driver'
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    r = subprocess.run('apt-get update -qq && apt-get install -y -qq chromium chromium-driver', shell=True, env=env,
                       capture_output=True, text=True)
    if r.returncode or not all(found()):
        return None, f'chromium could not be installed with apt-get (rc {r.returncode}): {r.stderr[-500:]}'
    return found()

def _test_figures(tmp):
    "figures/ when it holds images, else a folder with one PNG and one SVG made here (so the check can still fail)."
    if any(p.suffix.lower() in docs_build.IMG_EXT for p in (ROOT/'figures').rglob('*')): return ROOT/'figures'
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    d = tmp/'figures'; d.mkdir()
    fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([0, 1, 2], [0, 1, 4]); ax.set_title('test figure')
    fig.savefig(d/'test_line.png'); fig.savefig(d/'test_line.svg'); plt.close(fig)
    return d

@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "The site, built once: nbdev processing cached under _proc/ (as `make docs --no-execute`), pages in a tmp folder."
    tmp = tmp_path_factory.mktemp('docs')
    figs = _test_figures(tmp)
    t0 = time.time()
    index = docs_build.build(out=tmp/'site', work=ROOT/'_proc', execute=False, figures=figs, quiet=True)
    print(f'docs site built in {time.time() - t0:.1f} s')
    return dict(index=index, figures=figs, tmp=tmp)

@pytest.fixture(scope='session')
def browser():
    chrome, driver = _chromium()
    if chrome is None: pytest.skip(driver)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for f in CHROME_FLAGS: opts.add_argument(f)
    import tempfile
    with tempfile.TemporaryDirectory() as prof:
        opts.add_argument(f'--user-data-dir={prof}')
        b = webdriver.Chrome(options=opts, service=Service(driver))  # an explicit driver: selenium fetches nothing
        b.set_page_load_timeout(60)
        yield b
        b.quit()

def _open(b, path: Path):
    b.get(path.resolve().as_uri())
    for _ in range(100):
        if b.execute_script('return document.readyState') == 'complete': break
        time.sleep(0.1)

def _shot(b, name, site):
    d = Path(os.environ.get('IGDS_DOCS_SCREENSHOTS') or site['tmp'])
    d.mkdir(parents=True, exist_ok=True)
    b.save_screenshot(str(d/f'{name}.png'))

def _stage_pages():
    "(notebook, page, module) for each library notebook that exports a module."
    out = []
    for nb in docs_build.notebooks(ROOT/'nbs')[0]:
        src = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        m = re.search(r'^#\|[ \t]*default_exp[ \t]+(\w+)', src, re.M)
        if m: out.append((nb, docs_build.page_name(nb), m.group(1)))
    return out

def test_index_page_in_browser(site, browser):
    _open(browser, site['index'])
    _shot(browser, 'index', site)
    h1 = browser.execute_script("return document.querySelector('article h1').innerText")
    assert h1.strip(), 'the index page has no H1'
    # the sidebar lists the stage notebooks in pipeline order
    labels = browser.execute_script(
        "return [...document.querySelectorAll('nav.md-nav--primary a.md-nav__link')].map(a => a.innerText.trim())")
    nums = [int(m.group(1)) for l in labels if (m := re.match(r'(\d\d)\s', l))]
    assert len(nums) >= 3 and nums == sorted(nums), f'sidebar not in pipeline order: {labels}'
    assert any(l.endswith('Models') for l in labels), labels
    # every figure of the figures folder is on the page and loaded
    imgs = browser.execute_script(
        "return [...document.querySelectorAll('article img')].filter(i => i.getAttribute('src').includes('figures/'))"
        ".map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight])")
    want = sorted(p.relative_to(site['figures']).as_posix() for p in site['figures'].rglob('*')
                  if p.suffix.lower() in docs_build.IMG_EXT)
    got = sorted(s.split('figures/', 1)[1] for s, *_ in imgs)
    assert got == want, f'figures on the index page {got} != images in {site["figures"]} {want}'
    bad = [i for i in imgs if not (i[1] and i[2] > 0 and i[3] > 0)]
    assert not bad, f'figure images that did not load: {bad}'
    print(f'index: H1 {h1!r}; sidebar {labels}; {len(imgs)} figure(s) loaded, natural sizes {[i[2:] for i in imgs]}')

def test_stage_page_in_browser(site, browser):
    _open(browser, site['index'].parent/'models.html')
    _shot(browser, 'models', site)
    h1 = browser.execute_script("return document.querySelector('article h1').innerText")
    assert h1.startswith('Models'), h1
    entry = browser.execute_script(
        "const h = document.getElementById('load_model'); if (!h) return null;"
        "let n = h.nextElementSibling; while (n && !n.querySelector('code') && n.tagName != 'PRE') n = n.nextElementSibling;"
        "return [h.tagName, h.innerText, n ? n.innerText : '', h.getBoundingClientRect().height]")
    assert entry, 'no show_doc entry with id load_model on models.html'
    tag, text, sig, height = entry
    assert tag == 'H3' and text.startswith('load_model') and height > 0, entry
    assert 'def load_model(' in sig, f'the show_doc signature is not rendered: {sig!r}'
    print(f'models.html: H1 {h1!r}; show_doc {text!r} -> {sig.splitlines()[0]!r}')

def test_every_public_name_has_a_show_doc_entry(site):
    "Each name a module exports (`__all__`) that is a function or class has an entry on its notebook's page."
    missing, n = [], 0
    for nb, page, mod in _stage_pages():
        html = (site['index'].parent/f'{page}.html').read_text()
        m = importlib.import_module(f'igds.{mod}')
        for name in getattr(m, '__all__', []):
            if not callable(getattr(m, name, None)): continue
            n += 1
            if f'id="{name.lower()}"' not in html: missing.append(f'{page}.html#{name}')
    assert n > 10, f'only {n} public names found: is the package exported?'
    assert not missing, f'public names without a show_doc entry: {missing}'

def test_labs_are_pages_but_not_library_notebooks(site):
    labs = docs_build.notebooks(ROOT/'nbs')[1]
    for nb in labs: assert (site['index'].parent/'labs'/f'{nb.stem}.html').exists(), nb
