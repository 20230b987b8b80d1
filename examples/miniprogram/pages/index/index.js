const { LOGIN_URL } = require('../../config.js');

// wx.login gives a one-time code (valid 5 minutes); the backend exchanges it for the openid.
// wx.request sends the Referer https://servicewechat.com/{appid}/{version}/page-frame.html,
// which tells the backend which mini program is calling.
function login() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: ({ code }) => {
        if (!code) return reject(new Error('wx.login returned no code'));
        wx.request({
          url: LOGIN_URL,
          method: 'POST',
          data: { code },
          success: ({ statusCode, data }) => {
            if (statusCode === 200) return resolve(data);
            // Every failure is application/problem+json: `detail` says what to fix, `code` is stable.
            const problem = data || {};
            reject(new Error(problem.detail || `HTTP ${statusCode}`));
          },
          fail: (err) => reject(new Error(err.errMsg || 'request failed')),
        });
      },
      fail: (err) => reject(new Error(err.errMsg || 'wx.login failed')),
    });
  });
}

Page({
  data: { busy: false, openid: '', unionid: '', error: '' },

  async onLogin() {
    this.setData({ busy: true, openid: '', unionid: '', error: '' });
    try {
      const { openid, unionid } = await login();
      this.setData({ openid, unionid: unionid || '' });
    } catch (error) {
      this.setData({ error: error.message });
    } finally {
      this.setData({ busy: false });
    }
  },
});
