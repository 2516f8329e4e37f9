# Sphinx configuration of the freezer-api documentation (tox -e docs).

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_policy.sphinxext',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/freezer-api'
openstackdocs_bug_project = 'freezer-api'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

project = 'freezer-api'
copyright = '2026, OpenStack Foundation'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'native'

html_theme = 'openstackdocs'
# No network during the build: nothing is fetched from other projects.
intersphinx_mapping = {}
