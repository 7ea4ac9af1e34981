"""The lifecycle of clusters and their settings: deletions, new clusters, stops and starts, regressions and
fixes of channels, windows and surge settings, upgrade overrides and retirements."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from auditor.catalog import PLAN_LTS
from auditor.emulator.evolve.node_images import NodeImages
from auditor.emulator.evolve.state import (
    RINGS,
    Month,
    Traits,
    iso_seconds,
    minor_of,
    moment_in,
    parse_time,
    ring_of,
)
from auditor.emulator.generator import (
    APPS,
    apply_lifecycle_quirks,
    draw_cluster,
    pick,
)
from auditor.emulator.releases import Region
from auditor.emulator.wire import maintenance_configuration, property_change


class Lifecycle(NodeImages):
    """Clusters come and go; their owners change settings."""

    def _delete(self, month: Month, cid: str) -> None:
        cluster = self.clusters.pop(cid)
        self.maintenance.pop(cid, None)
        self._lifecycle_row(month, cluster, month.working_hours(), "Delete")

    def _lifecycle(self, month: Month, cid: str) -> None:
        rng = month.rng
        cluster = self.clusters[cid]
        properties = cluster["properties"]
        state = properties.get("provisioningState")
        if state in ("Failed", "Upgrading", "Updating") and rng.random() < (0.55 if state == "Failed" else 1.0):
            cluster = self._own(cid)
            properties = cluster["properties"]
            moment = month.working_hours()
            properties["provisioningState"] = "Succeeded"
            changes = {"properties.provisioningState": property_change(state, "Succeeded")}
            for index, pool in enumerate(properties.get("agentPoolProfiles", [])):
                if pool.get("provisioningState") == "Failed":
                    pool["provisioningState"] = "Succeeded"
                    changes[f"properties.agentPoolProfiles[{index}].provisioningState"] = property_change(
                        "Failed", "Succeeded"
                    )
            self._change(month, cluster, moment, changes, automated=False)
        for index, pool in enumerate(properties.get("agentPoolProfiles", [])):
            if pool.get("provisioningState") == "Failed" and rng.random() < 0.5:
                cluster = self._own(cid)
                properties = cluster["properties"]
                properties["agentPoolProfiles"][index]["provisioningState"] = "Succeeded"
                self._change(
                    month,
                    cluster,
                    month.working_hours(),
                    {
                        f"properties.agentPoolProfiles[{index}].provisioningState": property_change(
                            "Failed", "Succeeded"
                        ),
                    },
                    automated=False,
                )
        power = (properties.get("powerState") or {}).get("code", "Running")
        stop_chance = {"prod": 0.004, "staging": 0.01, "dev": 0.03}[self.traits[cid].environment]
        if (power == "Stopped" and rng.random() < 0.3) or (power == "Running" and rng.random() < stop_chance):
            new = "Running" if power == "Stopped" else "Stopped"
            cluster = self._own(cid)
            cluster["properties"]["powerState"] = {"code": new}
            changes = {"properties.powerState.code": property_change(power, new, "User")}
            for index, pool in enumerate(cluster["properties"].get("agentPoolProfiles", [])):
                pool["powerState"] = {"code": new}
                changes[f"properties.agentPoolProfiles[{index}].powerState.code"] = property_change(power, new, "User")
            self._change(month, cluster, month.working_hours(), changes, automated=False)

    def _config_drift(self, month: Month, cid: str, region: Region) -> None:
        """Settings switched off (regressions) or on (fixes) by hand."""
        rng = month.rng
        diligence = self.traits[cid].diligence
        cluster = self.clusters[cid]
        profile = cluster["properties"].get("autoUpgradeProfile") or {}
        channel = profile.get("upgradeChannel")
        node_os = profile.get("nodeOSUpgradeChannel")
        improve = {"good": 0.05, "fair": 0.03, "poor": 0.01}[diligence]
        regress = {"good": 0.005, "fair": 0.015, "poor": 0.03}[diligence]
        moment = month.working_hours()
        if channel in ("patch", "stable", "rapid") and rng.random() < regress:
            self._set_profile(month, cid, moment, "upgradeChannel", channel, "none")
        elif (channel in (None, "none")) and rng.random() < improve:
            self._set_profile(month, cid, moment, "upgradeChannel", channel, rng.choice(("stable", "patch")))
            if self._config(cid, "aksManagedAutoUpgradeSchedule") is None and rng.random() < 0.7:
                self._add_window(month, cid, region, "aksManagedAutoUpgradeSchedule", moment)
        if node_os in ("NodeImage", "SecurityPatch") and channel != "node-image" and rng.random() < regress:
            self._set_profile(month, cid, moment, "nodeOSUpgradeChannel", node_os, rng.choice(("None", "Unmanaged")))
        elif node_os not in ("NodeImage", "SecurityPatch") and rng.random() < improve:
            self._set_profile(
                month,
                cid,
                moment,
                "nodeOSUpgradeChannel",
                node_os,
                rng.choice(("NodeImage", "SecurityPatch")),
            )
            if self._config(cid, "aksManagedNodeOSUpgradeSchedule") is None and rng.random() < 0.7:
                self._add_window(month, cid, region, "aksManagedNodeOSUpgradeSchedule", moment)
        configs = self.maintenance.get(cid, [])
        if configs and rng.random() < regress:
            self._set_maintenance(cid, [c for c in configs if c is not configs[rng.randrange(len(configs))]])
        for index, pool in enumerate(self.clusters[cid]["properties"].get("agentPoolProfiles", [])):
            settings = pool.get("upgradeSettings") or {}
            if str(settings.get("maxSurge", "")) == "0" and rng.random() < improve * 2:
                self._set_surge(month, cid, index, moment, "33%", "0")
            elif str(settings.get("maxSurge", "")) != "0" and rng.random() < regress / 3:
                self._set_surge(month, cid, index, moment, "0", None)

    def _lifecycle_drift(self, month: Month, cid: str) -> None:
        """Upgrade overrides armed and disarmed, Availability Sets migrated: from a stream of their own."""
        rng = random.Random(f"aks-evolve-lifecycle|{self.seed}|{month.index}|{cid}")
        diligence = self.traits[cid].diligence
        properties = self.clusters[cid]["properties"]
        override = (properties.get("upgradeSettings") or {}).get("overrideSettings") or {}
        path = "properties.upgradeSettings.overrideSettings"
        if override.get("forceUpgrade") is True:
            until = parse_time(override.get("until"))
            cleanup = {"good": 0.6, "fair": 0.35, "poor": 0.15}[diligence]
            if (until is None or until < month.end) and rng.random() < cleanup:
                moment = moment_in(rng, max(month.begin, until or month.begin), month.end)
                cluster = self._own(cid)
                cluster["properties"]["upgradeSettings"]["overrideSettings"]["forceUpgrade"] = False
                self._keyed_change(
                    month, rng, cluster, moment, {f"{path}.forceUpgrade": property_change(True, False, "User")}
                )
        elif rng.random() < {"good": 0.06, "fair": 0.12, "poor": 0.18}[diligence]:
            armed = moment_in(rng, month.begin, month.end - timedelta(hours=1))
            until = armed + timedelta(days=3)
            cluster = self._own(cid)
            settings = cluster["properties"].setdefault("upgradeSettings", {})
            settings["overrideSettings"] = {"forceUpgrade": True, "until": iso_seconds(until)}
            self._keyed_change(
                month,
                rng,
                cluster,
                armed,
                {
                    f"{path}.forceUpgrade": property_change(override.get("forceUpgrade"), True, "User"),
                    f"{path}.until": property_change(override.get("until"), iso_seconds(until), "User"),
                },
            )
            disarmed = until + timedelta(days=rng.randint(1, 5))
            if disarmed < month.end and rng.random() < {"good": 0.9, "fair": 0.7, "poor": 0.4}[diligence]:
                settings["overrideSettings"]["forceUpgrade"] = False
                self._keyed_change(
                    month, rng, cluster, disarmed, {f"{path}.forceUpgrade": property_change(True, False, "User")}
                )
        for index, pool in enumerate(self.clusters[cid]["properties"].get("agentPoolProfiles", [])):
            if (
                pool.get("type") == "AvailabilitySet"
                and rng.random() < {"good": 0.2, "fair": 0.1, "poor": 0.03}[diligence]
            ):
                cluster = self._own(cid)
                cluster["properties"]["agentPoolProfiles"][index]["type"] = "VirtualMachines"
                moment = moment_in(rng, month.begin, month.end - timedelta(hours=1))
                self._keyed_change(
                    month,
                    rng,
                    cluster,
                    moment,
                    {
                        f"properties.agentPoolProfiles[{index}].type": property_change(
                            "AvailabilitySet", "VirtualMachines", "User"
                        )
                    },
                )

    def _set_profile(self, month: Month, cid: str, moment: datetime, key: str, old: Any, new: str) -> None:
        cluster = self._own(cid)
        profile = cluster["properties"].setdefault("autoUpgradeProfile", {})
        profile[key] = new
        self._change(
            month,
            cluster,
            moment,
            {f"properties.autoUpgradeProfile.{key}": property_change(old, new, "User")},
            automated=False,
        )

    def _set_surge(
        self, month: Month, cid: str, index: int, moment: datetime, surge: str, unavailable: str | None
    ) -> None:
        cluster = self._own(cid)
        pool = cluster["properties"]["agentPoolProfiles"][index]
        settings = dict(pool.get("upgradeSettings") or {})
        changes = {
            f"properties.agentPoolProfiles[{index}].upgradeSettings.maxSurge": property_change(
                settings.get("maxSurge"), surge, "User"
            )
        }
        settings["maxSurge"] = surge
        if unavailable is not None:
            settings["maxUnavailable"] = unavailable
        pool["upgradeSettings"] = settings
        self._change(month, cluster, moment, changes, automated=False)

    def _add_window(self, month: Month, cid: str, region: Region, name: str, moment: datetime) -> None:
        configs = [c for c in self.maintenance.get(cid, []) if c.get("name") != name]
        window = month.builder.window(
            self.traits[cid].diligence, region, node_os=name == "aksManagedNodeOSUpgradeSchedule"
        )
        window["startDate"] = moment.date().isoformat()
        configs.append(maintenance_configuration(self.clusters[cid]["id"], name, {"maintenanceWindow": window}))
        self._set_maintenance(cid, configs)

    def _add_clusters(self, month: Month) -> None:
        rng = month.rng
        existing = list(self.clusters.values())
        if not existing:
            return
        count = sum(1 for _ in existing if rng.random() < self.profile.new_clusters_per_month)
        if count == 0 and len(existing) < 60 and rng.random() < 0.6:
            count = 1
        for _ in range(count):
            template = rng.choice(existing)
            region = month.regions.get(str(template["location"]).lower())
            if region is None or not region.official:
                continue
            environment = str((template.get("tags") or {}).get("environment") or "dev")
            if environment not in self.profile.hygiene_by_env:
                environment = "dev"
            hygiene = pick(rng, self.profile.hygiene_by_env[environment])
            app = rng.choice(APPS)
            sid = template["id"].split("/")[2]
            group = f"rg-{app}-{environment}-{region.code}"
            number = 1
            while True:
                name = f"aks-{app}-{environment}-{region.code}-{number:02d}"
                cid = (
                    f"/subscriptions/{sid}/resourceGroups/{group}/providers/Microsoft.ContainerService/"
                    f"managedClusters/{name}"
                )
                if cid.lower() not in self.names_used:
                    break
                number += 1
            cluster = draw_cluster(month.builder, cid, name, region, environment, hygiene, app)
            moment = month.working_hours()
            self._fresh(month, cluster, region, moment)
            key = cid.lower()
            self.clusters[key] = cluster
            self._owned.add(key)
            self.created.add(key)
            self.names_used.add(key)
            self.traits[key] = Traits(hygiene, environment, ring_of(cluster))
            self._ran_all(key, moment)
            profile = cluster["properties"].get("autoUpgradeProfile") or {}
            configs = month.builder.maintenance_configurations(
                cid, hygiene, region, profile.get("upgradeChannel"), profile.get("nodeOSUpgradeChannel")
            )
            for config in configs:
                window = (config.get("properties") or {}).get("maintenanceWindow")
                if isinstance(window, dict):
                    window["startDate"] = moment.date().isoformat()
            apply_lifecycle_quirks(
                month.builder, random.Random(f"aks-evolve-new|{self.seed}|{month.index}|{key}"), cluster, configs
            )
            self._set_maintenance(key, configs)
            self._lifecycle_row(month, cluster, moment, "Create")

    def _fresh(self, month: Month, cluster: dict[str, Any], region: Region, moment: datetime) -> None:
        """A cluster created now runs a listed version on the newest images, and is healthy."""
        properties = cluster["properties"]
        minor = minor_of(str(properties["currentKubernetesVersion"]))
        if minor not in region.listed:
            minor = region.official[max(0, len(region.official) - 2)]
            if properties.get("supportPlan") == PLAN_LTS and not region.lts:
                properties["supportPlan"] = "KubernetesOfficial"
        version = f"{minor}.{max(region.listed[minor])}"
        held = ring_of(cluster) == RINGS[-1]
        if held and not self._preceded(month, "kubernetes", version):
            # A new production cluster is created on what the lower rings run: the newest patch of the minor
            # that one of them ran first, when there is one.
            tried = [p for p in region.listed[minor] if self._preceded(month, "kubernetes", f"{minor}.{p}")]
            version = f"{minor}.{max(tried)}" if tried else version
        properties["currentKubernetesVersion"] = version
        properties["kubernetesVersion"] = (
            minor if str(properties.get("kubernetesVersion", "")).count(".") == 1 else version
        )
        properties["provisioningState"] = "Succeeded"
        properties["powerState"] = {"code": "Running"}
        for pool in properties.get("agentPoolProfiles", []):
            pool["orchestratorVersion"] = properties["kubernetesVersion"]
            pool["currentOrchestratorVersion"] = version
            pool["provisioningState"] = "Succeeded"
            pool["powerState"] = {"code": "Running"}
            before = str(pool.get("nodeImageVersion") or "")
            image = self._image_for(month, region, before, version, moment, held)
            if held and image == before:  # no lower ring ran an image of its family: the newest
                image = self._image_for(month, region, before, version, moment)
            if image:
                pool["nodeImageVersion"] = image
