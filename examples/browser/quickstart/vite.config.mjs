// vite.config.mjs: shared memory needs a cross-origin isolated page, so send these two headers.
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
export default { server: { headers }, preview: { headers } };
