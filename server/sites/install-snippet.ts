/** What a shop owner pastes: the snippet tag and the one-line service-worker file (README "Install on a shop"). */
export function installSnippet(publicUrl: string, publishableKey: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    scriptTag: `<script async src="${base}/pushcart.js" data-site="${publishableKey}"></script>`,
    serviceWorkerPath: '/pushcart-sw.js',
    serviceWorkerFile: `importScripts('${base}/pushcart-sw.js');`,
  };
}

/** The install lines as `npm start` and `pushcart site create` print them. */
export function installInstructions(siteName: string, publicUrl: string, publishableKey: string): string[] {
  const install = installSnippet(publicUrl, publishableKey);
  return [
    `Install "${siteName}" on a shop page with this tag:`,
    `  ${install.scriptTag}`,
    `and serve this one line as ${install.serviceWorkerPath} on the shop's origin:`,
    `  ${install.serviceWorkerFile}`,
  ];
}
