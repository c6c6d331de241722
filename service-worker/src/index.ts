// The service worker, served as /pushcart-sw.js and imported by a shop's one-line file. Its
// behaviour is specified in the snippet issue; nothing ships from here yet.
export {};
