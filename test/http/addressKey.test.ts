import { addressKey } from '../../src/http/addressKey';

/** The per-address caps (HTTP_MAX_CONNECTIONS_PER_ADDRESS, SUBSCRIPTION_MAX_SOCKETS_PER_ADDRESS) count an IPv6 client by its /64, whatever its spelling. */
it.each([
  ['127.0.0.1', '127.0.0.1'],
  ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
  ['::1', '0:0:0:0::/64'],
  ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
  ['2001:db8:1:2:ffff:eeee:dddd:cccc', '2001:db8:1:2::/64'],
  ['2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
  ['2001:db8::', '2001:db8:0:0::/64'],
  ['2001:db8::5:6:7:8', '2001:db8:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['', ''],
])('%s → %s', (address, key) => {
  expect(addressKey(address)).toBe(key);
});
