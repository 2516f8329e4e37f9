"""Driving Horizon's pages in Chromium: waits, forms, tables, alerts.

A mixin of the Horizon tests (test_horizon.py), which give it
``self.driver`` (Selenium), ``self.horizon`` (fixtures_horizon), ``step()``
and the testtools assertions.
"""

import contextlib
import re

from selenium.common import exceptions as sel_exc
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support import select as sel_select
from selenium.webdriver.support import wait as sel_wait

WAIT = 30.0


class HorizonPages:
    """What a user does on a Horizon page, with the waits it needs."""

    def wait(self, condition, what, timeout=WAIT):
        try:
            return sel_wait.WebDriverWait(
                self.driver, timeout, poll_frequency=0.1,
                ignored_exceptions=(sel_exc.StaleElementReferenceException,),
            ).until(condition)
        except sel_exc.TimeoutException:
            self.fail(f'timed out after {timeout:.0f}s waiting for {what}; '
                      f'alerts: {self._alerts()}')

    def _ready(self, driver):
        """Loaded, and no jQuery request running.

        Each page fetches /header/ by ajax after it loads. Every Horizon
        request saves the session (its last-activity time), so a POST that
        changes the session (a table filter) while that fetch runs can see
        its change overwritten by the fetch's older copy.
        """
        try:
            return driver.execute_script(
                'return document.readyState === "complete" && '
                '(!window.jQuery || window.jQuery.active === 0);')
        except sel_exc.WebDriverException:
            return False  # between two documents

    def _alerts(self):
        """Texts of the alerts and field errors on the page.

        Hidden ones count too, unless they are errors: Horizon fades
        success messages out after a few seconds.
        """
        script = """
            var out = [];
            document.querySelectorAll(
                '.messages .alert, .modal .alert, .modal .has-error,' +
                ' .alert-danger').forEach(function (e) {
                var error = /alert-danger|has-error/.test(e.className);
                if (!error || e.offsetParent !== null) {
                    out.push(e.className + ': ' +
                             e.textContent.replace(/\\s+/g, ' ').trim());
                }
            });
            return out;"""
        try:
            return self.driver.execute_script(script)
        except sel_exc.WebDriverException as e:
            return [f'(could not read alerts: {e.msg})']

    def errors_shown(self):
        return [a for a in self._alerts()
                if 'alert-danger' in a or 'has-error' in a]

    def assert_page_ok(self, heading=None, success=None):
        """No error alert, still logged in, the expected heading/message."""
        path = self.path()
        self.assertFalse(path.startswith('/auth/'),
                         f'sent to {path}: logged out?')
        self.assertEqual([], self.errors_shown(),
                         f'error shown on {path}')
        if heading is not None:
            h1 = self.driver.find_element(
                By.CSS_SELECTOR, '.page-header h1, .page-header .h1')
            self.assertEqual(heading, h1.text.strip())
        if success is not None:
            texts = [a for a in self._alerts() if 'alert-success' in a]
            self.assertTrue(any(success in t for t in texts),
                            f'no success message {success!r}: {texts}')

    def path(self):
        url = self.driver.current_url
        return re.sub(r'^https?://[^/]+', '', url).split('?')[0]

    def go(self, path, heading=None):
        """Open ``path`` of Horizon and check it shows no error."""
        self.step(f'open {path}')
        self.driver.get(self.horizon.url + path)
        self.wait(self._ready, f'{path} to load')
        self.assert_page_ok(heading)

    @contextlib.contextmanager
    def navigation(self, what):
        """Wait for the page to be replaced by what the block triggers.

        A modal form with errors is not replaced: it is re-shown with its
        field errors, or Horizon shows an error toast; that fails at once
        instead of waiting for the timeout.

        The old page is told by a mark on its window object, which a new
        document does not have (Chromium's answers about an old page's
        elements during a navigation are not reliable).
        """
        self.driver.execute_script('window.freezerFuncOldPage = true;')
        yield

        def replaced(driver):
            try:
                old = driver.execute_script(
                    'return window.freezerFuncOldPage === true;')
            except sel_exc.WebDriverException:
                return False  # between two documents
            if not old:
                return self._ready(driver)
            if self.errors_shown():
                raise AssertionError(f'{what}: {self.errors_shown()}')
            return False

        self.wait(replaced, what)

    def click(self, by, value, what=None):
        el = self.wait(ec.element_to_be_clickable((by, value)),
                       what or f'{value} to be clickable')
        el.click()
        return el

    def open_modal(self, link_id, title=None):
        """Click a link that opens an ajax modal; return the modal."""
        self.step(f'open modal {link_id}')
        self.click(By.ID, link_id)
        modal = self.wait(ec.visibility_of_element_located(
            (By.CSS_SELECTOR, '#modal_wrapper .modal form')),
            f'the modal of {link_id}')
        if title is not None:
            self.assertEqual(title, self.driver.find_element(
                By.CSS_SELECTOR, '#modal_wrapper .modal-title').text.strip())
        return modal

    def _show_field(self, el):
        """Activate the workflow tab ``el`` is on, when it is hidden."""
        if el.is_displayed():
            return
        pane = self.driver.execute_script(
            'var p = arguments[0].closest(".tab-pane");'
            'return p ? p.id : null;', el)
        if pane:
            self.click(By.CSS_SELECTOR,
                       f'#modal_wrapper a[data-target="#{pane}"]',
                       f'tab {pane}')
        self.wait(lambda d: el.is_displayed(), 'a form field to show')

    def field(self, field_id):
        el = self.driver.find_element(By.ID, field_id)
        self._show_field(el)
        return el

    def fill(self, field_id, value):
        self.step(f'type {value!r} into #{field_id}')
        el = self.field(field_id)
        el.clear()
        el.send_keys(str(value))

    def choose(self, field_id, value):
        self.step(f'choose {value!r} in #{field_id}')
        sel_select.Select(self.field(field_id)).select_by_value(value)

    def submit_modal(self, what):
        self.step(f'submit: {what}')
        with self.navigation(what):
            self.driver.find_element(
                By.CSS_SELECTOR,
                '#modal_wrapper .modal-footer [type=submit]').click()

    def row(self, table, obj_id):
        """The row of ``obj_id`` in table ``table``, or None."""
        rows = self.driver.find_elements(
            By.CSS_SELECTOR, f'table#{table} tbody tr[data-object-id]')
        for r in rows:
            if r.get_attribute('data-object-id') == obj_id:
                return r
        return None

    def row_ids(self, table):
        return [r.get_attribute('data-object-id')
                for r in self.driver.find_elements(
                    By.CSS_SELECTOR,
                    f'table#{table} tbody tr[data-object-id]')]

    def cells(self, table, obj_id):
        row = self.row(table, obj_id)
        self.assertIsNotNone(row, f'no row {obj_id} in table {table}; '
                                  f'rows: {self.row_ids(table)}')
        return [c.text.strip() for c in row.find_elements(By.TAG_NAME,
                                                          'td')]

    def row_action(self, table, obj_id, action):
        """Click a row action, opening the row's dropdown when needed.

        Rows of these tables refresh themselves by ajax every few
        seconds, hence the retries on a stale row.
        """
        self.step(f'row action {action} on {table}/{obj_id}')
        action_id = f'{table}__row_{obj_id}__action_{action}'
        for attempt in range(5):
            try:
                el = self.driver.find_element(By.ID, action_id)
                if not el.is_displayed():
                    toggle = el.find_element(
                        By.XPATH, './ancestor::div[contains(@class, '
                                  '"btn-group")]/a[contains(@class, '
                                  '"dropdown-toggle")]')
                    toggle.click()
                    self.wait(lambda d, e=el: e.is_displayed(),
                              f'{action} in the dropdown')
                el.click()
                return
            except sel_exc.StaleElementReferenceException:
                if attempt == 4:
                    raise
            except sel_exc.NoSuchElementException:
                self.fail(f'no action {action} on {table}/{obj_id}; '
                          f'actions offered: {self.actions_of(obj_id)}')

    def actions_of(self, obj_id):
        """The ids of the row actions offered for ``obj_id``."""
        return [e.get_attribute('id').split('__action_')[-1]
                for e in self.driver.find_elements(
                    By.CSS_SELECTOR, f'[id*="__row_{obj_id}__action_"]')]

    def confirm(self, what):
        """Accept Horizon's confirmation dialog (of a delete)."""
        self.step(f'confirm: {what}')
        button = self.wait(ec.element_to_be_clickable(
            (By.CSS_SELECTOR, '#modal_wrapper .modal-footer .btn-danger, '
                              '#modal_wrapper .modal-footer .btn-primary')),
            f'the confirmation of {what}')
        with self.navigation(what):
            button.click()

    def filter_table(self, table, text):
        self.step(f'filter {table} by {text!r}')
        self.wait(self._ready, 'the page to settle before filtering')
        box = self.driver.find_element(By.NAME, f'{table}__filter__q')
        box.clear()
        box.send_keys(text)
        with self.navigation(f'filter {table}'):
            self.driver.find_element(By.ID,
                                     f'{table}__action_filter').click()

    def detail_value(self, label):
        """The value shown for ``label`` on a detail page (a <dl>)."""
        found = self.driver.find_elements(
            By.XPATH, f'//dt[normalize-space()="{label}"]'
                      '/following-sibling::dd[1]')
        self.assertTrue(found, f'no {label!r} on {self.path()}')
        return found[0].text.strip()

    def assert_details(self, expected):
        self.assertEqual(expected, {k: self.detail_value(k)
                                    for k in expected})
