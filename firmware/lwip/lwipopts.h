// SPDX-License-Identifier: MIT
// lwIP options for fastsock's host builds: what the board's firmware uses for everything the
// transport sees (TCP window and buffers, mailbox sizes, pcb counts: generated from the board's
// sdkconfig fragments into lwip_sdkconfig.h, as ESP-IDF's own lwipopts.h reads sdkconfig.h),
// ESP-IDF's netconn threading, host-sized pools elsewhere, statistics on so tests can prove
// nothing leaks.
#ifndef FS_LWIPOPTS_H
#define FS_LWIPOPTS_H

// scripts/board-sdkconfig (firmware/lwip/lwip.mk): boards/ESP32_NET, or FS_BOARD_VARIANT's files.
#include "lwip_sdkconfig.h"

// An OS with threads: the tcpip thread owns the stack, applications use netconn.
#define NO_SYS (0)
#define LWIP_NETCONN (1)
#define LWIP_SOCKET (0)
#define LWIP_NETIF_API (0)
#define LWIP_TCPIP_CORE_LOCKING (0)     // ESP-IDF default: every call is a message
#define LWIP_NETCONN_SEM_PER_THREAD (1) // as ESP-IDF (sys_arch.h: thread-local sems)
#define LWIP_NETCONN_FULLDUPLEX (1)     // as ESP-IDF
#define LWIP_SO_RCVTIMEO (1)            // the transport waits in 100 ms slices
#define LWIP_SO_SNDTIMEO (1)
#define LWIP_TCPIP_TIMEOUT (0)

// Protocols: IPv4 over Ethernet (TAP and libslirp both carry Ethernet frames).
#define LWIP_IPV4 (1)
#define LWIP_IPV6 (0)
#define LWIP_ARP (1)
#define LWIP_ETHERNET (1)
#define LWIP_ICMP (1)
#define LWIP_UDP (1)
#define LWIP_TCP (1)
#define LWIP_RAW (0)
#define LWIP_DHCP (0)
#define LWIP_IGMP (0)
#define LWIP_DNS (1)
#define DNS_TABLE_SIZE (4) // ESP-IDF
#define DNS_MAX_NAME_LENGTH (256)
#define DNS_MAX_SERVERS (2)
#define LWIP_HAVE_LOOPIF (0)
#define LWIP_NETIF_LOOPBACK (0)

// TCP as the board's firmware has it (IDF's lwipopts.h maps the same CONFIG_ names).
#define TCP_MSS (CONFIG_LWIP_TCP_MSS)
#define TCP_WND (CONFIG_LWIP_TCP_WND_DEFAULT)
#define TCP_SND_BUF (CONFIG_LWIP_TCP_SND_BUF_DEFAULT)
#define TCP_SND_QUEUELEN ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_QUEUE_OOSEQ (1)
#define TCP_OOSEQ_MAX_PBUFS (CONFIG_LWIP_TCP_OOSEQ_MAX_PBUFS)
#ifdef CONFIG_LWIP_TCP_SACK_OUT
#define LWIP_TCP_SACK_OUT (1)
#endif
#define TCP_MAXRTX (CONFIG_LWIP_TCP_MAXRTX)
#define TCP_SYNMAXRTX (CONFIG_LWIP_TCP_SYNMAXRTX)
#define LWIP_TCP_KEEPALIVE (0)
#define DEFAULT_TCP_RECVMBOX_SIZE (CONFIG_LWIP_TCP_RECVMBOX_SIZE)
#define DEFAULT_UDP_RECVMBOX_SIZE (6)
#define DEFAULT_ACCEPTMBOX_SIZE (6)
#define TCPIP_MBOX_SIZE (CONFIG_LWIP_TCPIP_RECVMBOX_SIZE)
#define TCPIP_THREAD_STACKSIZE (0)
#define TCPIP_THREAD_PRIO (1)
#define DEFAULT_THREAD_STACKSIZE (0)

// Memory: lwIP's own heap and fixed pools, so MEM/MEMP statistics count every byte.
#define MEM_ALIGNMENT (8)
#define MEM_SIZE (64 * 1024)
#define MEMP_NUM_PBUF (32)
#define MEMP_NUM_UDP_PCB (8)
#define MEMP_NUM_TCP_PCB (CONFIG_LWIP_MAX_ACTIVE_TCP)
#define MEMP_NUM_TCP_PCB_LISTEN (4)
#define MEMP_NUM_TCP_SEG (64)
#define MEMP_NUM_NETBUF (8)
#define MEMP_NUM_NETCONN (CONFIG_LWIP_MAX_SOCKETS)
#define MEMP_NUM_TCPIP_MSG_API (32)
#define MEMP_NUM_TCPIP_MSG_INPKT (64)
// Received frames land in pool pbufs; one frame (MTU 1500 + Ethernet header) fits one pbuf.
// Enough for two full windows (one held by the application, one in flight) plus spares.
#define PBUF_POOL_SIZE (2 * TCP_WND / TCP_MSS + 32)
#define PBUF_POOL_BUFSIZE (1536)
#define ETH_PAD_SIZE (0)

// Statistics (read by the host-only `lwipstats` module; stats_display() names the pools).
#define LWIP_STATS (1)
#define LWIP_STATS_DISPLAY (1)
#define MEM_STATS (1)
#define MEMP_STATS (1)
#define SYS_STATS (1)
#define LINK_STATS (1)
#define IP_STATS (1)
#define TCP_STATS (1)
#define UDP_STATS (1)
#define ICMP_STATS (0)
#define ETHARP_STATS (1)

// Debugging: assertions stay on (abort with a message); no debug output.
#define LWIP_DEBUG (0)

#endif // FS_LWIPOPTS_H
