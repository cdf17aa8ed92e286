"""Request layer of the Prisma Cloud Python SDK (compute/CWPP part), reproduced for compatibility tests.

Implements what PaloAltoNetworks/prismacloud-api-python sends to a Compute Console, request for
request: the same requests.Session, the same headers, the same URL strings (including the paging
quirk of spec section 1.6), the same body serialisation (json.dumps with default separators) and the
same response handling (empty body -> None, exact 'text/csv' -> text, otherwise JSON; any non-2xx
ends the program). The SDK's code is not copied here; each method names the SDK file, commit and
lines it reproduces. docs/clients.md lists what the server must honour.

Sources (repository PaloAltoNetworks/prismacloud-api-python):
  prismacloud/api/pc_lib_api.py        PrismaCloudAPI.__init__ / configure (revision with session_compute)
  prismacloud/api/cwpp/cwpp.py         @0bf0c33ff6c299d044e73611bc3ce041fa0615be
  prismacloud/api/cwpp/_registry.py    @0bf0c33ff6c299d044e73611bc3ce041fa0615be
  prismacloud/api/cwpp/_status.py      @7be0bce1c57982d0f460e7b9771600d7ede4b3b1
  prismacloud/api/cwpp/_settings.py    @a5f4ad7037014a1a4cade0cdaef017a606e0cb1a
  prismacloud/api/cwpp/_credentials.py @33632d5bf003b75a56ccf76c8425dd2af369755f
  prismacloud/api/pc_lib_utility.py    @01b2b7e4d56e878baa663dbd9033cfbfe10ab4fe (normalize_api)
"""

import json
import time
import urllib.parse

import requests

# pc_lib_api.py: the User-Agent is f"PrismaCloudAPI/{version}" with version read from the installed
# package's metadata; this string stands in for whichever release a user has installed.
SDK_VERSION = "5.2"


class SdkExit(SystemExit):
    """What error_and_exit raises (cwpp.py error_and_exit: SystemExit with status code and text)."""

    def __init__(self, status_code, message):
        super().__init__('\n\nStatus Code: %s\n%s\n%s\n' % (status_code, message, ''))
        self.status_code = status_code


class PrismaCloudComputeAPI:
    """The compute half of PrismaCloudAPI: session, login, execute_compute(_paginated), endpoints."""

    def __init__(self):
        # pc_lib_api.py __init__ (lines 38-74 of the session_compute revision)
        self.api_compute = ''
        self.identity = None
        self.secret = None
        self.verify = True
        self.timeout = None
        self.token_limit = 590
        self.token_compute = None
        self.token_compute_timer = 0
        self.user_agent = f"PrismaCloudAPI/{SDK_VERSION}"
        self.session_compute = requests.session()
        self.session_compute.headers['User-Agent'] = self.user_agent
        self.session_compute.headers['Content-Type'] = 'application/json'
        # The SDK mounts its urllib3 Retry adapter on self.session (the CSPM session) even for a
        # Compute URL (configure), so compute requests are sent once, without retries.

    def configure(self, settings):
        """pc_lib_api.py configure: a URL not ending in .prismacloud.io/.cn is a Compute Console URL."""
        self.identity = settings.get('identity')
        self.secret = settings.get('secret')
        self.verify = settings.get('verify', True)
        self.api_compute = self.normalize_api(settings.get('url', ''))
        if not self.api_compute:
            self.error_and_exit(418, "Specify a Prisma Cloud URL or Prisma Cloud Compute URL")

    @staticmethod
    def normalize_api(api):
        """pc_lib_utility.py normalize_api: lower-case, scheme dropped, trailing '/' dropped.

        Every request is then sent to 'https://' + this value: the SDK cannot speak plain HTTP.
        """
        if not api:
            return ''
        api = api.lower()
        api = api.replace('http://', '')
        api = api.replace('https://', '')
        return api.rstrip('/')

    def suppress_warnings_when_verify_false(self):
        """cspm/cspm.py suppress_warnings_when_verify_false."""
        if self.verify is False:
            # pylint: disable=no-member
            requests.packages.urllib3.disable_warnings(requests.packages.urllib3.exceptions.InsecureRequestWarning)

    @classmethod
    def error_and_exit(cls, error_code, error_message=''):
        """cwpp.py error_and_exit."""
        raise SdkExit(error_code, error_message)

    # --- cwpp.py @0bf0c33 -------------------------------------------------------------------------

    def login_compute(self):
        """cwpp.py lines 11-27: POST https://<console>/api/v1/authenticate, then 'Bearer <token>'."""
        self.suppress_warnings_when_verify_false()
        url = f'https://{self.api_compute}/api/v1/authenticate'
        if 'Authorization' in self.session_compute.headers:
            del self.session_compute.headers['Authorization']
        body_params_json = json.dumps({'username': self.identity, 'password': self.secret})
        api_response = self.session_compute.post(url, data=body_params_json, verify=self.verify, timeout=self.timeout)
        if api_response.ok:
            api_response = api_response.json()
            self.token_compute = api_response.get('token')
            self.token_compute_timer = time.time()
            self.session_compute.headers['Authorization'] = f"Bearer {self.token_compute}"
        else:
            self.error_and_exit(api_response.status_code,
                                'API (%s) responded with an error\n%s' % (url, api_response.text))

    def check_extend_login_compute(self):
        """cwpp.py lines 29-34: no renew call; log in again once the token is older than 590 s."""
        if not self.token_compute or (int(time.time() - self.token_compute_timer) > self.token_limit):
            self.token_compute = None
            self.login_compute()

    def _decode(self, api_response, url, query_params, body_params):
        """cwpp.py lines 62-74: how a 2xx body is turned into a result."""
        if not api_response.content:
            return None
        if api_response.headers.get('Content-Type') == 'application/x-gzip':
            return api_response.content
        if api_response.headers.get('Content-Type') == 'text/csv':
            return api_response.content.decode('utf-8')
        try:
            return api_response.json()
        except ValueError:
            return self.error_and_exit(api_response.status_code, 'JSON raised ValueError, API: (%s) with query params: (%s) and body params: (%s) parsing response: (%s)' % (url, query_params, body_params, api_response.content))

    def execute_compute(self, action, endpoint, query_params=None, body_params=None):
        """cwpp.py execute_compute (lines 39-78)."""
        self.suppress_warnings_when_verify_false()
        self.check_extend_login_compute()
        if body_params:
            body_params_json = json.dumps(body_params)
        else:
            body_params_json = None
        url = 'https://%s/%s' % (self.api_compute, endpoint)
        api_response = self.session_compute.request(action, url, params=query_params, data=body_params_json, verify=self.verify, timeout=self.timeout)
        if api_response.ok:
            return self._decode(api_response, url, query_params, body_params)
        return self.error_and_exit(api_response.status_code, 'API: (%s) with query params: (%s) and body params: (%s) responded with an error and this response:\n%s' % (url, query_params, body_params, api_response.text))

    def execute_compute_paginated(self, action, endpoint, query_params=None, body_params=None, paginated=True):
        """cwpp.py execute_compute_paginated (from line 80): a generator; '?limit=50&offset=N' is appended to the endpoint as is.

        With Total-Count the page's elements are yielded and offset grows by 50 until it reaches
        Total-Count; without it the whole decoded body is yielded as one element and paging stops.
        """
        self.suppress_warnings_when_verify_false()
        self.check_extend_login_compute()
        if body_params:
            body_params_json = json.dumps(body_params)
        else:
            body_params_json = None
        offset = 0
        limit = 50
        more = False
        while offset == 0 or more is True:
            self.check_extend_login_compute()
            if paginated:
                url = 'https://%s/%s?limit=%s&offset=%s' % (self.api_compute, endpoint, limit, offset)
            else:
                url = 'https://%s/%s' % (self.api_compute, endpoint)
            api_response = self.session_compute.request(action, url, params=query_params, data=body_params_json, verify=self.verify, timeout=self.timeout)
            if not api_response.ok:
                self.error_and_exit(api_response.status_code, 'API: (%s) with query params: (%s) and body params: (%s) responded with an error and this response:\n%s' % (url, query_params, body_params, api_response.text))
            if not api_response.content:
                yield None
                return
            content_type = api_response.headers.get('Content-Type')
            if content_type in ('application/x-gzip', 'text/csv'):
                yield self._decode(api_response, url, query_params, body_params)
                return
            result = self._decode(api_response, url, query_params, body_params)
            if 'Total-Count' in api_response.headers:
                total_count = int(api_response.headers['Total-Count'])
                if total_count > 0:
                    yield from result
                offset += limit
                more = bool(offset < total_count)
            else:
                yield result
                return

    def version(self):
        """cwpp.py: GET api/v1/version."""
        return self.execute_compute('GET', 'api/v1/version')

    def ping(self):
        """cwpp.py: unauthenticated GET /api/v1/_ping, body returned as text."""
        return self.session_compute.get(f'https://{self.api_compute}/api/v1/_ping').text

    # --- cwpp/_registry.py @0bf0c33 ---------------------------------------------------------------

    def registry_download(self, query_params=None):
        """_registry.py lines 8-10 (note the trailing '?' in the endpoint)."""
        return self.execute_compute('GET', 'api/v1/registry/download?', query_params=query_params)

    def registry_get_read(self, image_id):
        """_registry.py lines 12-13 (image_id is interpolated without URL encoding)."""
        return self.execute_compute('GET', 'api/v1/registry?id=%s&filterBaseImage=true' % image_id)

    def registry_list_read(self):
        """_registry.py lines 15-17: GET api/v1/registry?filterBaseImage=true?limit=50&offset=N."""
        return self.execute_compute_paginated('GET', 'api/v1/registry?filterBaseImage=true', paginated=True)

    def registry_list_image_names(self, query_params=None):
        """_registry.py lines 19-21."""
        return self.execute_compute('GET', 'api/v1/registry/names?', query_params=query_params)

    def registry_scan(self, body_params=None):
        """_registry.py lines 23-25: without body_params the POST has no body but Content-Type json."""
        return self.execute_compute('POST', 'api/v1/registry/scan', body_params=body_params)

    def registry_scan_select(self, body_params=None):
        """_registry.py lines 27-29."""
        return self.execute_compute('POST', 'api/v1/registry/scan/select', body_params=body_params)

    # --- cwpp/_status.py @7be0bce -----------------------------------------------------------------

    def statuses_intelligence(self):
        """_status.py lines 6-7 (the registry scan script calls it first, as an access test)."""
        return self.execute_compute('GET', 'api/v1/statuses/intelligence')

    def statuses_registry(self):
        """_status.py lines 9-10."""
        return self.execute_compute('GET', 'api/v1/statuses/registry')

    # --- cwpp/_settings.py @a5f4ad7 ---------------------------------------------------------------

    def settings_registry_read(self):
        """_settings.py lines 17-18 (method passed in lower case; requests sends 'GET')."""
        return self.execute_compute('get', 'api/v1/settings/registry')

    def settings_registry_write(self, body):
        """_settings.py lines 20-24: PUT of the whole {"specifications": [...]} object."""
        return self.execute_compute('put', 'api/v1/settings/registry', body_params=body)

    # --- cwpp/_credentials.py @33632d5 ------------------------------------------------------------

    def credential_list_read(self):
        """_credentials.py lines 11-12."""
        return self.execute_compute('GET', 'api/v1/credentials')

    def credential_list_create(self, body):
        """_credentials.py lines 14-18 (always targets the project 'Central Console')."""
        return self.execute_compute('POST', 'api/v1/credentials?project=Central+Console', body_params=body)

    def credential_list_delete(self, cred):
        """_credentials.py lines 20-23: DELETE without a body, Content-Type json still set."""
        return self.execute_compute('DELETE', 'api/v1/credentials/%s' % urllib.parse.quote(cred))

    def credential_list_usages_read(self, cred):
        """_credentials.py lines 25-28."""
        return self.execute_compute('GET', 'api/v1/credentials/%s/usages' % urllib.parse.quote(cred))
