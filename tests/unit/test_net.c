/* Unit tests of the two pieces of common/net that go around libevent 2.1's bufferevent
 * limits, on a socketpair with no event loop running: net_flush() writes what is queued at
 * once (the bufferevent keeps the start of its output frozen), and net_read_more() pulls what
 * the socket holds into the input (whose end is frozen), up to its limits, leaving EOF for
 * the bufferevent. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "check_run.h"
#include "net.h"

struct pair {
    struct event_base *base;
    struct bufferevent *bev; /* on fds[0] */
    int peer;                /* fds[1] */
};

static void pair_open(struct pair *p)
{
    int fds[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    p->base = event_base_new();
    ck_assert_ptr_nonnull(p->base);
    p->bev = bufferevent_socket_new(p->base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    ck_assert_ptr_nonnull(p->bev);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    p->peer = fds[1];
}

static void pair_close(struct pair *p)
{
    bufferevent_free(p->bev);
    event_base_free(p->base);
    close(p->peer);
}

START_TEST(test_net_send_now_reaches_the_peer_without_the_loop)
{
    struct pair p;
    struct buf b;
    char got[16];

    pair_open(&p);
    buf_init(&b);
    buf_put(&b, "hello", 5);
    net_send_buf(p.bev, &b); /* queued only: nothing is on the socket yet */
    ck_assert_int_eq(recv(p.peer, got, sizeof(got), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    net_flush(p.bev);
    ck_assert_int_eq(recv(p.peer, got, sizeof(got), MSG_DONTWAIT), 5);
    ck_assert_int_eq(memcmp(got, "hello", 5), 0);
    ck_assert_uint_eq(evbuffer_get_length(bufferevent_get_output(p.bev)), 0);
    buf_put(&b, "again", 5);
    net_send_now(p.bev, &b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(recv(p.peer, got, sizeof(got), MSG_DONTWAIT), 5);
    ck_assert_int_eq(memcmp(got, "again", 5), 0);
    buf_fini(&b);
    pair_close(&p);
}
END_TEST

/* What the socket does not take goes to the output, and what is sent next goes after it,
 * never before. */
START_TEST(test_net_send_now_keeps_order_when_the_socket_is_full)
{
    enum { BIG = 1 << 20 };
    struct pair p;
    struct buf b;
    uint8_t *got = malloc(BIG + 1);
    size_t n = 0;

    pair_open(&p);
    buf_init(&b);
    for (size_t i = 0; i < BIG; i++)
        buf_put(&b, &(uint8_t){ (uint8_t)(i % 251) }, 1);
    net_send_now(p.bev, &b); /* a socketpair takes far less than 1 MiB at once */
    ck_assert_uint_gt(evbuffer_get_length(bufferevent_get_output(p.bev)), 0);
    buf_put(&b, "Z", 1);
    net_send_now(p.bev, &b);
    while (n < BIG + 1) {
        ssize_t r = recv(p.peer, got + n, BIG + 1 - n, MSG_DONTWAIT);
        if (r > 0)
            n += (size_t)r;
        else
            net_flush(p.bev); /* as the loop would when the socket has room again */
    }
    for (size_t i = 0; i < BIG; i++)
        ck_assert_uint_eq(got[i], i % 251);
    ck_assert_uint_eq(got[BIG], 'Z');
    buf_fini(&b);
    free(got);
    pair_close(&p);
}
END_TEST

START_TEST(test_net_read_more_pulls_within_limits_and_leaves_eof)
{
    enum { LEN = 100000 };
    struct pair p;
    uint8_t *data = malloc(LEN), *got = malloc(LEN);
    struct evbuffer *in;

    pair_open(&p);
    in = bufferevent_get_input(p.bev);
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)(i * 31 + 1);
    ck_assert_int_eq(write(p.peer, data, LEN), LEN);
    ck_assert_uint_eq(net_read_more(p.bev, 30000, 4096), 30000); /* in_max caps the input */
    ck_assert_uint_eq(evbuffer_get_length(in), 30000);
    ck_assert_uint_eq(net_read_more(p.bev, 30000, 4096), 0); /* full already */
    ck_assert_uint_eq(net_read_more(p.bev, 1 << 20, 1 << 20), LEN - 30000);
    ck_assert_int_eq(evbuffer_remove(in, got, LEN), LEN);
    ck_assert_int_eq(memcmp(got, data, LEN), 0);
    ck_assert_uint_eq(net_read_more(p.bev, 1 << 20, 1 << 20), 0); /* nothing there */
    close(p.peer);
    p.peer = -1;
    ck_assert_uint_eq(net_read_more(p.bev, 1 << 20, 1 << 20), 0); /* EOF stays for the bev */
    ck_assert_uint_eq(evbuffer_get_length(in), 0);
    bufferevent_free(p.bev);
    event_base_free(p.base);
    free(data);
    free(got);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_net_send_now_reaches_the_peer_without_the_loop);
    tcase_add_test(tc, test_net_send_now_keeps_order_when_the_socket_is_full);
    tcase_add_test(tc, test_net_read_more_pulls_within_limits_and_leaves_eof);
    suite_add_tcase(s, tc);
    return check_run(s);
}
