# Sphinx configuration of the freezer-api release notes
# (tox -e releasenotes).

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

# openstackdocstheme
openstackdocs_repo_name = 'openstack/freezer-api'
openstackdocs_bug_project = 'freezer-api'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

project = 'freezer-api Release Notes'
copyright = '2026, OpenStack Foundation'
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']
pygments_style = 'native'

html_theme = 'openstackdocs'
# No network during the build.
intersphinx_mapping = {}
