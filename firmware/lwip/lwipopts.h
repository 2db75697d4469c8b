// lwIP options for fastsock's host builds: ESP-IDF's defaults for what the transport sees
// (TCP window and buffers, mailbox sizes, netconn threading), host-sized pools elsewhere,
// statistics on so tests can prove nothing leaks.
#ifndef FS_LWIPOPTS_H
#define FS_LWIPOPTS_H

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

// TCP as ESP-IDF ships it (CONFIG_LWIP_TCP_MSS, _WND_DEFAULT, _SND_BUF_DEFAULT, _RECVMBOX_SIZE).
#define TCP_MSS (1440)
#define TCP_WND (5760)
#define TCP_SND_BUF (5760)
#define TCP_SND_QUEUELEN ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define TCP_QUEUE_OOSEQ (1)
#define TCP_OOSEQ_MAX_PBUFS (4) // CONFIG_LWIP_TCP_OOSEQ_MAX_PBUFS
#define TCP_MAXRTX (12)
#define TCP_SYNMAXRTX (12)
#define LWIP_TCP_KEEPALIVE (0)
#define DEFAULT_TCP_RECVMBOX_SIZE (6)
#define DEFAULT_UDP_RECVMBOX_SIZE (6)
#define DEFAULT_ACCEPTMBOX_SIZE (6)
#define TCPIP_MBOX_SIZE (32) // CONFIG_LWIP_TCPIP_RECVMBOX_SIZE
#define TCPIP_THREAD_STACKSIZE (0)
#define TCPIP_THREAD_PRIO (1)
#define DEFAULT_THREAD_STACKSIZE (0)

// Memory: lwIP's own heap and fixed pools, so MEM/MEMP statistics count every byte.
#define MEM_ALIGNMENT (8)
#define MEM_SIZE (64 * 1024)
#define MEMP_NUM_PBUF (32)
#define MEMP_NUM_UDP_PCB (8)
// ESP32's pcb cap: CONFIG_LWIP_MAX_ACTIVE_TCP=12 (MicroPython v1.28.0 sdkconfig.base, lwip_patch.c)
#define MEMP_NUM_TCP_PCB (12)
#define MEMP_NUM_TCP_PCB_LISTEN (4)
#define MEMP_NUM_TCP_SEG (64)
#define MEMP_NUM_NETBUF (8)
// ESP32's socket count: IDF's lwipopts.h = CONFIG_LWIP_MAX_SOCKETS, default 10 (not overridden)
#define MEMP_NUM_NETCONN (10)
#define MEMP_NUM_TCPIP_MSG_API (32)
#define MEMP_NUM_TCPIP_MSG_INPKT (64)
// Received frames land in pool pbufs; one frame (MTU 1500 + Ethernet header) fits one pbuf.
#define PBUF_POOL_SIZE (64)
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
