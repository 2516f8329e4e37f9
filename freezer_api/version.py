"""The installed version of freezer-api."""

import pbr.version

version_info = pbr.version.VersionInfo('freezer-api')
version_string = version_info.version_string
