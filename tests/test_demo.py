"""The browser demo (xai/demo.py) in a real browser: headless Chromium (Debian's chromium and
chromium-driver) drives the page served on a free local port, uploads a photo (the sample
selector then names the upload), explains two classes and checks that the overlays appear and
differ and that the map's colour bar is shown, labelled, in the overlay's colours; the X-ray tab
explains an X-ray."""
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import numpy as np
import pytest

from conftest import ASSETS, ROOT

webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs the "
                                "'selenium' package (pip install selenium)")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMEDRIVER is None or shutil.which("chromium") is None,
    reason="the browser test needs Debian's 'chromium' and 'chromium-driver' packages "
           "(apt-get install chromium chromium-driver)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(assets):
    port = free_port()
    env = dict(os.environ, XAI_ASSETS=str(ASSETS), TF_CPP_MIN_LOG_LEVEL="3", TQDM_DISABLE="1")
    proc = subprocess.Popen([sys.executable, "-m", "xai", "demo", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1150,1000",
                "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("timed out; page error: "
                         + driver.find_element("id", "error").text)


def decoded(src: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8),
                        cv2.IMREAD_COLOR)


def explain(driver, target):
    before = driver.find_element("id", "overlay-img").get_attribute("src")
    target_box = driver.find_element("id", "target")
    target_box.clear()
    target_box.send_keys(target)
    driver.find_element("id", "explain").click()
    return wait(driver, lambda: (driver.find_element("id", "overlay-img").get_attribute("src")
                                 or "") not in ("", before) and
                driver.find_element("id", "explain").is_enabled()
                and driver.find_element("id", "overlay-img").get_attribute("src"))


def test_upload_explain_two_classes_and_the_xray_tab(server, browser, tmp_path):
    from selenium.webdriver.support.ui import Select
    browser.get(server)
    wait(browser, lambda: browser.find_element("tag name", "body").get_attribute("data-ready"))
    photo = tmp_path / "cat_dog.png"
    shutil.copy(ASSETS / "images" / "cat_dog.png", photo)
    sample = Select(browser.find_element("id", "sample"))
    assert sample.first_selected_option.text != "(uploaded: cat_dog.png)"
    browser.find_element("id", "upload").send_keys(str(photo))
    time.sleep(0.5)  # the page reads the file
    # the selector shows that the upload, not a bundled sample, is explained
    assert sample.first_selected_option.text == "(uploaded: cat_dog.png)"
    Select(browser.find_element("id", "method")).select_by_value("gradcam")
    cat = decoded(explain(browser, "tabby"))
    assert "tabby" in browser.find_element("id", "map-caption").text
    dog = decoded(explain(browser, "bull_mastiff"))
    assert "bull_mastiff" in browser.find_element("id", "map-caption").text
    assert cat.shape == dog.shape == (224, 224, 3)
    assert np.abs(cat.astype(int) - dog.astype(int)).mean() > 5  # two classes, two maps
    rows = browser.find_elements("css selector", "#top5 tbody tr")
    assert len(rows) == 5
    check_colorbar(browser)
    if os.environ.get("XAI_DEMO_SCREENSHOT"):
        browser.save_screenshot(os.environ["XAI_DEMO_SCREENSHOT"])
    # a readable error, not a traceback
    explain_error = browser.find_element("id", "target")
    explain_error.clear()
    explain_error.send_keys("no such class")
    browser.find_element("id", "explain").click()
    message = wait(browser, lambda: browser.find_element("id", "error").text)
    assert message.startswith("Error: unknown class") and "Traceback" not in message
    # choosing a bundled sample again drops the upload
    sample.select_by_index(1)
    assert all(o.text != "(uploaded: cat_dog.png)" for o in sample.options)
    assert browser.find_element("id", "upload").get_attribute("value") == ""
    # the X-ray tab: the pneumonia CNN on a bundled X-ray
    browser.find_element("id", "tab-xray").click()
    wait(browser, lambda: "conv2d_4" in browser.find_element("id", "layer").text)
    explain(browser, "PNEUMONIA")
    assert "PNEUMONIA" in browser.find_element("id", "map-caption").text
    assert {r.text.split()[0] for r in browser.find_elements("css selector", "#top5 tbody tr")} \
        == {"NORMAL", "PNEUMONIA"}


def check_colorbar(driver):
    """The map's colour bar is visible under the map, labelled, and its gradient runs through
    the overlay's colormap (OpenCV jet: dark blue at 0, dark red at 1)."""
    bar = driver.find_element("id", "colorbar")
    ramp = driver.find_element("id", "colorbar-ramp")
    assert bar.is_displayed() and ramp.size["width"] >= 200 and ramp.size["height"] >= 8
    assert driver.find_element("id", "colorbar-label").text == "importance (0 = low, 1 = high)"
    gradient = ramp.value_of_css_property("background-image")
    colours = [tuple(map(int, c)) for c in re.findall(r"rgb\((\d+), (\d+), (\d+)\)", gradient)]
    jet = cv2.applyColorMap(np.array([[0], [255]], np.uint8), cv2.COLORMAP_JET)[:, 0, ::-1]
    assert colours[0] == tuple(jet[0]) and colours[-1] == tuple(jet[1]), gradient
    map_img = driver.find_element("id", "map-img")
    assert bar.location["y"] > map_img.location["y"]  # under the map
