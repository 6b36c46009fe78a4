import { test } from 'node:test';
import assert from 'node:assert/strict';
import { externalLinkHref } from '../../shared/links.js';

test('only absolute http(s) links may leave the app', () => {
  assert.equal(externalLinkHref('https://example.org/a?b=1#c'), 'https://example.org/a?b=1#c');
  assert.equal(externalLinkHref('HTTP://EXAMPLE.ORG'), 'http://example.org/');
  for (const bad of [
    'javascript:alert(1)',
    ' javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>1</script>',
    'file:///etc/passwd',
    'vbscript:msgbox(1)',
    'ms-msdt:/id PCWDiagnostic',
    'smb://attacker/share',
    '/relative/path',
    '//example.org/protocol-relative',
    'not a url',
    '',
    null,
    undefined,
  ]) {
    assert.equal(externalLinkHref(bad), null, String(bad));
  }
});
