"""Named sets of chart values, each one deployment a team would really write.

The secrets here are test values made up for these renders.
"""

from __future__ import annotations

from typing import Any

JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef"
ENCRYPTION_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 bytes
GOOGLE_CLIENT_SECRET = "GOCSPX-test-client-secret"
REDIS_PASSWORD = "test-redis-password-0123456789"

# What the pod's environment would hold, for check-config on the rendered configs.
GATE_ENV = {
    "GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
    "MCP_GATE_JWT_SECRET": JWT_SECRET,
    "MCP_GATE_ENCRYPTION_KEY": ENCRYPTION_KEY,
    "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/0",
    "REDIS_PASSWORD": REDIS_PASSWORD,
    "OIDC_CLIENT_SECRET": "test-oidc-client-secret",
    "MCP_GATE_ADVERTISE_URL": "http://10.1.2.3:8081",
}

# Several replicas relay each other's MCP sessions; the chart sets the variable.
CLUSTER = {"advertiseURL": {"$env": "MCP_GATE_ADVERTISE_URL"}}

REDIS_AUTH = {
    "storage": "redis",
    "redis": {"url": {"$env": "REDIS_URL"}},
    "jwtSecret": {"$env": "MCP_GATE_JWT_SECRET"},
    "encryptionKey": {"$env": "MCP_GATE_ENCRYPTION_KEY"},
}

CHART_SECRETS = {
    "googleClientSecret": GOOGLE_CLIENT_SECRET,
    "jwtSecret": JWT_SECRET,
    "encryptionKey": ENCRYPTION_KEY,
    "redisPassword": REDIS_PASSWORD,
}

# Three replicas on a managed Redis, behind ingress-nginx with TLS, locked down.
EXTERNAL_REDIS_HA: dict[str, Any] = {
    "replicaCount": 3,
    "config": {
        "proxy": {
            "baseURL": "https://mcp.acme.test",
            "cluster": CLUSTER,
            "auth": {**REDIS_AUTH, "allowedDomains": ["acme.test"]},
        },
        "mcpServers": {
            "notion": {
                "transportType": "streamable-http",
                "url": "https://mcp.notion.com/mcp",
                "headers": {"Authorization": {"$userToken": "Bearer {{token}}"}},
                "requiresUserToken": True,
                "userAuthentication": {"type": "manual", "displayName": "Notion"},
            },
        },
    },
    "secrets": CHART_SECRETS,
    "externalRedis": {"url": "rediss://:$(REDIS_PASSWORD)@redis.acme.internal:6380/0"},
    "ingress": {"enabled": True, "tls": [{"secretName": "mcp-tls", "hosts": ["mcp.acme.test"]}]},
    "networkPolicy": {
        "enabled": True,
        "ingressFrom": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
        ],
        "egress": [{"ports": [{"port": 443, "protocol": "TCP"}]}],
    },
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
}

# Autoscaled, with the bundled Redis, served under a path of a shared host.
BUNDLED_REDIS_AUTOSCALED: dict[str, Any] = {
    "autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80},
    "config": {
        "proxy": {
            "baseURL": "https://tools.acme.test/mcp-gate/",
            "cluster": CLUSTER,
            "auth": REDIS_AUTH,
        },
    },
    "secrets": CHART_SECRETS,
    "redis": {"enabled": True, "persistence": {"storageClass": "fast-ssd", "size": "5Gi"}},
    "ingress": {"enabled": True},
    "networkPolicy": {"enabled": True, "egress": [{"ports": [{"port": 443}]}]},
}

# Two replicas, every secret (REDIS_URL too) from a Secret the team manages, OIDC login.
EXISTING_SECRET_OIDC: dict[str, Any] = {
    "replicaCount": 2,
    "existingSecret": "mcp-gate-secrets",
    "config": {
        "proxy": {
            "baseURL": "https://gate.acme.test",
            "cluster": CLUSTER,
            "auth": {
                **REDIS_AUTH,
                "idp": {
                    "provider": "oidc",
                    "clientId": "mcp-gate",
                    "clientSecret": {"$env": "OIDC_CLIENT_SECRET"},
                    "discoveryUrl": "https://sso.acme.test/.well-known/openid-configuration",
                },
                "allowedDomains": ["acme.test"],
            },
        },
        "mcpServers": {
            "time": None,
            "git": {"transportType": "stdio", "command": "uvx", "args": ["mcp-server-git"]},
        },
    },
    "ingress": {"enabled": True, "className": "", "host": "gate.internal.acme.test"},
    "redis": {"enabled": False},
    "podDisruptionBudget": {"enabled": True, "maxUnavailable": "50%"},
}

# Two replicas on the Bitnami chart's Redis with Sentinel, whose sentinels ask for the
# same password as Redis.
SENTINEL_REDIS: dict[str, Any] = {
    "replicaCount": 2,
    "config": {
        "proxy": {
            "cluster": CLUSTER,
            "auth": {
                **REDIS_AUTH,
                "redis": {
                    "sentinels": [f"redis-node-{n}.redis-headless:26379" for n in range(3)],
                    "masterName": "mymaster",
                    "password": {"$env": "REDIS_PASSWORD"},
                    "sentinelPassword": {"$env": "REDIS_PASSWORD"},
                },
            },
        },
    },
    "secrets": CHART_SECRETS,
}

# Three replicas of two workers each on ElastiCache in cluster mode: TLS, an RBAC user,
# the CA from a Secret.
MANAGED_CLUSTER_TLS: dict[str, Any] = {
    "replicaCount": 3,
    "workers": 2,
    "config": {
        "proxy": {
            "cluster": CLUSTER,
            "auth": {
                **REDIS_AUTH,
                "redis": {
                    "url": "rediss://clustercfg.gate.abc123.use1.cache.amazonaws.com:6379",
                    "cluster": True,
                    "username": "mcp-gate",
                    "password": {"$env": "REDIS_PASSWORD"},
                    "tls": {"caFile": "/etc/mcp-gate/redis-ca/ca.pem"},
                },
            },
        },
    },
    "secrets": CHART_SECRETS,
    "extraVolumes": [{"name": "redis-ca", "secret": {"secretName": "redis-ca"}}],
    "extraVolumeMounts": [
        {"name": "redis-ca", "mountPath": "/etc/mcp-gate/redis-ca", "readOnly": True}
    ],
}

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "external_redis_ha": EXTERNAL_REDIS_HA,
    "bundled_redis_autoscaled": BUNDLED_REDIS_AUTOSCALED,
    "existing_secret_oidc": EXISTING_SECRET_OIDC,
    "sentinel_redis": SENTINEL_REDIS,
    "managed_cluster_tls": MANAGED_CLUSTER_TLS,
}
