#!/usr/bin/env node
// A real feed reader for Podium's feed tests: reads each feed address given as an argument with
// @extractus/feed-extractor (RSS, Atom and JSON Feed) and prints, as one JSON object by address,
// the entries it shows with its default options ("entries": id, title, link, published, and a
// description stripped of tags and cut at 250 characters), and beside each the item's full
// content and change time as the library hands them to an app that asks ("kept").
import { extract } from '@extractus/feed-extractor';

const text = (value) => {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return String(value['#text'] ?? value._text ?? '');
  return String(value);
};

// The item's full HTML and its time of change, by format: what getExtraEntryFields receives.
const kept = (item) => ({
  content: text(item.content_html ?? item.content ?? item.description),
  modified: text(item.date_modified ?? item.updated ?? item['atom:updated']),
});

const results = {};
for (const url of process.argv.slice(2)) {
  const feed = await extract(url, { getExtraEntryFields: (item) => ({ kept: kept(item) }) });
  results[url] = feed.entries;
}
process.stdout.write(JSON.stringify(results));
