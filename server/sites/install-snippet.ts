/** What a shop owner pastes: the snippet tag and the one-line service-worker file (README "Install on a shop"). */
export function installSnippet(publicUrl: string, publishableKey: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    scriptTag: `<script async src="${base}/pushcart.js" data-site="${publishableKey}"></script>`,
    serviceWorkerPath: '/pushcart-sw.js',
    serviceWorkerFile: `importScripts('${base}/pushcart-sw.js');`,
  };
}
