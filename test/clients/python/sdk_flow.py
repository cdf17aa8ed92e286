"""Drive a Console through the Python SDK's request layer and print a JSON summary on stdout.

The flow follows the SDK's registry script scripts/pcs_current_registry_scan.py
(PaloAltoNetworks/prismacloud-api-python @48f7ccd3325cb1b7959de37c31eaf4a10bc459e3): wait until no
registry scan runs (statuses_registry until completed is true, polling every 4 s), trigger
registry_scan, wait again, then read every page of GET /registry. Before it the registry settings
are read (settings_registry_read, as scripts/pcs_sync_registries.py does) and after it
statuses_intelligence is called (the script's access test). Every request the SDK sends is recorded
from a response hook (which does not alter the request) and listed in the summary.

Exit status: 0 on success; non-zero when the Console answers a non-2xx status (the SDK's own
error_and_exit) or a body has the wrong shape (checked here, message on stderr).
"""

import argparse
import json
import sys
import time

from prismacloud_sdk import PrismaCloudComputeAPI


class MalformedResponse(Exception):
    """A 2xx body the SDK's callers could not use."""


def parse_verify(value):
    """pc_utility.get_settings: 'true'/'' -> True, 'false' -> False, anything else is a CA bundle path."""
    if value.lower() == 'true' or value == '':
        return True
    if value.lower() == 'false':
        return False
    return value


def require(condition, message):
    if not condition:
        raise MalformedResponse(message)


def wait_until_idle(pc_api, poll_seconds, deadline):
    """pcs_current_registry_scan.py registry_scan_wait, with a deadline so a test cannot hang."""
    polls = []
    while True:
        status = pc_api.statuses_registry()
        require(isinstance(status, dict), 'GET /api/v1/statuses/registry: expected an object, got %r' % (status,))
        require(isinstance(status.get('completed'), bool), 'statuses/registry: "completed" is not a boolean: %r' % (status,))
        polls.append(status)
        if status.get('completed', False) is True:
            return polls
        if time.monotonic() > deadline:
            raise MalformedResponse('statuses/registry still not completed after the timeout: %r' % (status,))
        time.sleep(poll_seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True, help='Console address, e.g. 127.0.0.1:8083 (the SDK always uses https)')
    parser.add_argument('--identity', required=True, help='Console username')
    parser.add_argument('--secret', required=True, help='Console password')
    parser.add_argument('--verify', default='true', help="'true', 'false' or a CA bundle path (as the SDK's --verify)")
    parser.add_argument('--scan-body', default=None,
                        help='JSON body for POST /registry/scan (default: none, a full regular scan)')
    parser.add_argument('--poll-seconds', type=float, default=4.0, help='statuses_registry poll interval (script: 4)')
    parser.add_argument('--timeout-seconds', type=float, default=600.0, help='give up waiting for the scan after this')
    args = parser.parse_args()

    pc_api = PrismaCloudComputeAPI()
    pc_api.configure({'url': args.url, 'identity': args.identity, 'secret': args.secret,
                      'verify': parse_verify(args.verify)})
    sent = []

    def record(response, *_args, **_kwargs):
        sent.append({'method': response.request.method, 'url': response.request.url,
                     'status': response.status_code, 'totalCount': response.headers.get('Total-Count')})

    pc_api.session_compute.hooks['response'].append(record)
    deadline = time.monotonic() + args.timeout_seconds

    pc_api.login_compute()
    require(isinstance(pc_api.token_compute, str) and pc_api.token_compute != '',
            'POST /api/v1/authenticate: no "token" string in the answer')

    registry_settings = pc_api.settings_registry_read()
    require(isinstance(registry_settings, dict), 'GET /api/v1/settings/registry: expected an object')
    specifications = registry_settings.get('specifications')
    require(isinstance(specifications, list), 'settings/registry: "specifications" is not an array')
    require(all(isinstance(spec, dict) for spec in specifications), 'settings/registry: a specification is not an object')

    before = wait_until_idle(pc_api, args.poll_seconds, deadline)
    scan_body = json.loads(args.scan_body) if args.scan_body else None
    scan_answer = pc_api.registry_scan(body_params=scan_body)
    after = wait_until_idle(pc_api, args.poll_seconds, deadline)

    pages_before = len(sent)
    results = list(pc_api.registry_list_read())
    registry_requests = sent[pages_before:]
    require(all(isinstance(item, dict) and isinstance(item.get('_id'), str) for item in results),
            'GET /api/v1/registry: elements are not results with an "_id" (is Total-Count missing?)')
    result_ids = [item['_id'] for item in results]
    require(len(set(result_ids)) == len(result_ids), 'GET /api/v1/registry: the pages repeat results: %r' % result_ids)
    total_count = registry_requests[0]['totalCount']
    require(total_count is not None and int(total_count) == len(results),
            'GET /api/v1/registry: Total-Count %r but %d results over all pages' % (total_count, len(results)))

    intelligence = pc_api.statuses_intelligence()
    require(intelligence is not None, 'GET /api/v1/statuses/intelligence: empty answer')

    summary = {
        'specifications': {
            'count': len(specifications),
            'ids': [spec.get('id') for spec in specifications],
            'registries': [spec.get('registry') for spec in specifications],
        },
        'scan': {
            'body': scan_body,
            'answer': scan_answer,
            'statusBefore': before[-1],
            'statusPolls': after,
            'sawIncomplete': any(status.get('completed') is False for status in after),
            'statusAfter': after[-1],
        },
        'registry': {
            'count': len(results),
            'totalCount': int(total_count),
            'pages': len(registry_requests),
            'ids': result_ids,
        },
        'intelligence': intelligence,
        'requests': sent,
    }
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    try:
        main()
    except MalformedResponse as malformed:
        print('malformed response: %s' % malformed, file=sys.stderr)
        sys.exit(2)
