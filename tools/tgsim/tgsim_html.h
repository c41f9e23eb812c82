/* tgsim_html.h — Telegram's "HTML" parse mode and message-text finishing.
 *
 * Purpose: turn a bot's HTML-formatted text into plain text plus
 * MessageEntity objects exactly the way the Bot API does, and reject what the
 * real server rejects (unknown or unclosed tags, unescaped '<', mismatched end
 * tags) with the server's wording. Offsets and lengths are UTF-16 code units.
 *
 * Supported tags: b strong i em u ins s strike del tg-spoiler
 * span class="tg-spoiler" a href tg-emoji emoji-id code (class="language-x")
 * pre blockquote (expandable). Entities: &lt; &gt; &amp; &quot; &#N; &#xH;
 * (any other '&' stays literal, as on the real server).
 *
 * Exports: tgsim_html_parse, tgsim_text_finish.
 * Threads: pure functions, any thread.
 */
#ifndef TGSIM_HTML_H
#define TGSIM_HTML_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Parse s[0..len) (must be valid UTF-8). On success returns 0, *text gets the
 * malloc'd plain text (*text_len bytes) and *entities a cJSON array of
 * MessageEntity objects sorted by offset (caller frees both). Links to
 * "tg://user?id=N" come out as type "text_link"; the caller may turn them
 * into "text_mention". On a parse error returns -1 and writes the reason
 * (the part after "can't parse entities: ") into err. */
int tgsim_html_parse(const char *s, size_t len, char **text, size_t *text_len,
                     cJSON **entities, char *err, size_t errlen);

/* Finish a message text the way the server does before storing it: strip
 * leading and trailing whitespace (bytes <= 0x20), shift and clip `entities`
 * (may be NULL) accordingly, and drop entities left empty. `*text` is
 * replaced in place (realloc'd). Returns the final length in UTF-16 units. */
size_t tgsim_text_finish(char **text, size_t *text_len, cJSON *entities);

#endif
