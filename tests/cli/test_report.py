"""`initsweep report OUTDIR` writes one self-contained report.html, checked
in headless Chromium (Debian's chromium and chromedriver, through
selenium): copied alone into an empty directory it loads with no console
errors and no request for any other file, every section is there with its
content, every figure (the maps and the law for each combination of the
held axes) is a decoded, non-blank image on screen, and the provenance
names the program, the ranks and the kernels.  A control page with a
console error proves the check sees errors.  Bad input: exit 2, no page."""
import io
import os
import shutil

from common import EXE, SRC, check, done, mpi_cmd, run, scratch

import matplotlib.image as mpimg
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

SECTIONS = ("summary", "outcomes", "maps", "law", "boundary", "fits", "geometry",
            "refinement", "provenance", "spec")


def blank(png):
    """An image with (almost) one colour: nothing drawn."""
    a = mpimg.imread(io.BytesIO(png), format="png")
    return float(a[..., :3].std()) < 0.02


work = scratch("report")
out = os.path.join(work, "out")
# two depths held fixed by the figures: two sets of maps and laws
run(mpi_cmd(2, "run", os.path.join(SRC, "sweeps", "scale_law.yaml"), "-o", out, "--quiet",
            "--set", "sweep.model.activation=[relu]",
            "--set", "sweep.model.hidden=[[16], [16, 16]]",
            "--set", "sweep.seed={range: [0, 2]}", "--set", "refine.rounds=4"))
p = run([EXE, "report", out])
page = os.path.join(out, "report.html")
check(p.stdout.strip() == page and os.path.getsize(page) > 50000,
      "report writes %s: %s" % (page, p.stdout))
check(os.stat(page).st_mode & 0o044 == 0o044, "report.html is readable by others, as the CSVs")
alone = scratch("report/alone")
shutil.copy(page, alone)
copied = os.path.join(alone, "report.html")
text = open(copied).read()
check("http://" not in text and "https://" not in text and "src=\"data:image/png;base64," in text,
      "the page names no other file or address")

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1400,1000"):
    opts.add_argument(a)
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    # control: a console error is seen
    control = os.path.join(alone, "control.html")
    with open(control, "w") as f:
        f.write("<!DOCTYPE html><html><body><script>console.error('control error')</script>"
                "</body></html>")
    driver.get("file://" + control)
    logs = driver.get_log("browser")
    check(any(e["level"] == "SEVERE" and "control error" in e["message"] for e in logs),
          "the console check sees a deliberate error: %s" % logs)
    os.unlink(control)

    driver.get("file://" + copied)
    check(driver.execute_script("return document.readyState") == "complete", "the page loaded")
    logs = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    check(not logs, "no console errors or warnings: %s" % logs)
    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('data:'))")
    check(not fetched, "no other file or address was requested: %s" % fetched)
    for sid in SECTIONS:
        el = driver.find_elements(By.ID, sid)
        check(len(el) == 1 and len(el[0].text.strip()) > 40,
              "section %s is there with content" % sid)
    imgs = driver.find_elements(By.CSS_SELECTOR, "section img")
    check(len(imgs) == 6, "2 x (stability, outcome, law) figures: %d" % len(imgs))
    for i, img in enumerate(imgs):
        driver.execute_script("arguments[0].scrollIntoView()", img)
        ok = driver.execute_script("return arguments[0].complete && "
                                   "arguments[0].naturalWidth > 200", img)
        check(ok, "figure %d decoded" % i)
        check(not blank(img.screenshot_as_png), "figure %d is drawn on screen" % i)
    maps = driver.find_element(By.ID, "maps").text
    check("model.hidden = [16]" in maps and "model.hidden = [16, 16]" in maps,
          "a figure set per held depth: %s" % maps[:300])
    prov = driver.find_element(By.ID, "provenance").text
    lines = prov.splitlines()
    check(any(l.startswith("program initsweep 0.1.0 git ") for l in lines) and
          "ranks 2" in lines and any(l.startswith("blas_core ") and l.endswith(" x 2")
                                     for l in lines) and
          any(l.startswith("hosts ") for l in lines), "provenance: %s" % prov)
    fits = driver.find_element(By.ID, "fits").text
    check("line" in fits and "-2" in fits, "the fit table: %s" % fits[:300])
    spec = driver.find_element(By.ID, "spec").text
    check("name: scale-law" in spec, "the resolved spec is shown")
    driver.execute_script("window.scrollTo(0, 0)")
    check(not blank(driver.get_screenshot_as_png()), "the page is drawn")
finally:
    driver.quit()

# bad input: the missing file named, exit 2, no page left behind
bad = scratch("report/bad")
for f in ("runs.csv", "spec.yaml", "boundary.csv", "fit.csv", "journal.meta"):
    shutil.copy(os.path.join(out, f), bad)
p = run([EXE, "report", bad], expect=2)
check("cells.csv" in p.stderr and not os.path.exists(os.path.join(bad, "report.html")),
      "a missing cells.csv is named and no page is written: %s" % p.stderr)
check(not [f for f in os.listdir(bad) if f.startswith(".report")], "no temp file left")
done()
