// The drop-in snippet, served as /pushcart.js and bundled with esbuild (workbox-window registers
// the service worker). Its behaviour is specified in the snippet issue; nothing ships from here yet.
export {};
