// One client for the whole mini program: every page that requires this module shares its
// session and its login in flight. lib/weapp-openid.js is the library's one file, copied.
const { createClient } = require('./lib/weapp-openid.js');
const { BASE_URL } = require('./config.js');

module.exports = createClient({ baseUrl: BASE_URL });
