# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the Backup/Restore API reference.

Built with ``tox -e api-ref``; every warning is an error. The samples under
samples/ are written by freezer_api/tests/unit/api/test_api_ref_samples.py
from what the service answers: regenerate them, never edit them.
"""

from os_api_ref import http_codes

extensions = [
    'os_api_ref',
    'openstackdocstheme',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/freezer-api'
openstackdocs_bug_project = 'freezer-api'
openstackdocs_bug_tag = 'api-ref'
openstackdocs_auto_name = False

project = 'Backup/Restore API Reference'
copyright = '2026, OpenStack Foundation'

source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
exclude_patterns = ['build']
pygments_style = 'native'

html_theme = 'openstackdocs'
html_theme_options = {'sidebar_mode': 'toc'}

# The service answers a request body that is not JSON with 753 "Syntax
# Error", which the http module does not name; os-api-ref would show it as
# "Unknown".
http_codes.HTTPResponseCodeDirective.CODES[753] = 'Syntax Error'
