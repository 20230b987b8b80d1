const client = require('../../client.js');

// Written with Component rather than Page (both make a page; Component needs
// "usingComponents" in index.json) so that the same file also runs in the component test
// framework.
Component({
  data: { busy: false, openid: '', unionid: '', me: '', error: '', errorCode: '' },

  methods: {
    async onLogin() {
      await this.run(async () => {
        const { openid, unionid } = await client.login();
        this.setData({ openid, unionid: unionid || '' });
      });
    },

    async onWhoAmI() {
      await this.run(async () => {
        // Logs in first if needed; a 401 makes it log in again once and repeat once.
        const { statusCode, data } = await client.request({ url: '/me' });
        if (statusCode !== 200) throw new Error(`GET /me answered ${statusCode}`);
        const until = new Date(data.expiresAt * 1000).toLocaleTimeString();
        this.setData({ openid: data.openid, me: `${data.appid}, session valid until ${until}` });
      });
    },

    onLogout() {
      client.logout();
      this.setData({ openid: '', unionid: '', me: '', error: '', errorCode: '' });
    },

    async run(action) {
      this.setData({ busy: true, error: '', errorCode: '' });
      try {
        await action();
      } catch (error) {
        // `detail` says what to fix; `code` is stable; `requestId` is what the operator looks up.
        this.setData({
          error: error.detail || error.message,
          errorCode: error.requestId ? `${error.code} · ${error.requestId}` : error.code || '',
        });
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
