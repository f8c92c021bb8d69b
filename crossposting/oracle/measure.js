#!/usr/bin/env node
// Reference counters for Podium's text tests: reads JSON Lines {"id", "text"} on stdin and prints,
// for each line, what twitter-text 3.1.0 (config v3) and @atproto/api RichText compute.
// Indices of twitter-text URLs are converted from UTF-16 units to code points (Python's indices).
'use strict';
const readline = require('node:readline');
const twitter = require('twitter-text');
const { RichText } = require('@atproto/api');

function codePointIndex(text, utf16Index) {
  return Array.from(text.slice(0, utf16Index)).length;
}

function measure(text) {
  const tweet = twitter.parseTweet(text);
  const normalized = text.normalize('NFC');
  const urls = twitter.extractUrlsWithIndices(normalized).map((entity) => ({
    url: entity.url,
    start: codePointIndex(normalized, entity.indices[0]),
    end: codePointIndex(normalized, entity.indices[1]),
  }));
  const rt = new RichText({ text });
  rt.detectFacetsWithoutResolution();
  const facets = (rt.facets || []).map((facet) => {
    const feature = facet.features[0];
    const kind = feature.$type.split('#')[1];
    const out = { type: kind, byteStart: facet.index.byteStart, byteEnd: facet.index.byteEnd };
    if (kind === 'link') out.uri = feature.uri;
    else if (kind === 'mention') out.handle = feature.did;
    else out.tag = feature.tag;
    return out;
  });
  return {
    x: { length: tweet.weightedLength, valid: tweet.valid, urls },
    bluesky: { length: rt.graphemeLength, bytes: rt.length, facets },
  };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const item = JSON.parse(line);
  process.stdout.write(JSON.stringify({ id: item.id, ...measure(item.text) }) + '\n');
});
