const client = require('../../client.js');

const CLEARED = { openid: '', unionid: '', phoneNumber: '', me: '', steps: '', notice: '' };

// Written with Component rather than Page (both make a page; Component needs
// "usingComponents" in index.json) so that the same file also runs in the component test
// framework.
Component({
  data: { busy: false, ...CLEARED, error: '', errorCode: '' },

  methods: {
    async onLogin() {
      await this.run(async () => {
        // phoneNumber is there once a number is bound: it is kept, so never asked for again.
        const { openid, unionid, phoneNumber } = await client.login();
        this.setData({ openid, unionid: unionid || '', phoneNumber: phoneNumber || '' });
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

    async onPhone(e) {
      await this.run(async () => {
        // e.detail as it is: bindPhone rejects phone_denied, phone_quota_exhausted or
        // phone_code_missing itself, without a request, when it holds no code to send.
        const { phoneNumber } = await client.bindPhone(e.detail);
        this.setData({ phoneNumber });
      });
    },

    async onSteps() {
      await this.run(async () => {
        // A function, not the data: the client settles the session_key first and only then
        // fetches, so that no wx.login comes between the data and its decryption.
        const { stepInfoList } = await client.openData(() => wx.getWeRunData());
        const latest = stepInfoList[stepInfoList.length - 1];
        this.setData({ steps: latest ? String(latest.step) : 'none' });
      });
    },

    async onDeleteAccount() {
      await this.run(async () => {
        await client.deleteAccount();
        this.setData({ ...CLEARED, notice: 'Account deleted: nothing is kept about you.' });
      });
    },

    onLogout() {
      client.logout();
      this.setData({ ...CLEARED, error: '', errorCode: '' });
    },

    async run(action) {
      this.setData({ busy: true, notice: '', error: '', errorCode: '' });
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
