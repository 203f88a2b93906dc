package kube

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Volume names.
const (
	volWorkspace = "workspace"
	volTmp       = "tmp"
	volRegistry  = "registry-auth"
	volKeys      = "trust-keys"
)

func renderPodTemplate(r *resolved) corev1.PodTemplateSpec {
	annotations := map[string]string{
		AnnotationDigest:       r.digest,
		AnnotationDeploymentID: r.DeploymentID,
		// kubectl logs/exec pick this container when none is named.
		"kubectl.kubernetes.io/default-container": AppContainer,
	}
	if r.keysHash != "" {
		annotations[AnnotationTrustKeys] = r.keysHash
	}
	var pullSecrets []corev1.LocalObjectReference
	for _, n := range r.ImagePullSecrets {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: n})
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: commonLabels(r), Annotations: annotations},
		Spec: corev1.PodSpec{
			// The app never talks to the Kubernetes API: no token in the pod,
			// and no service-link variables mixed into its env.
			AutomountServiceAccountToken: new(false),
			EnableServiceLinks:           new(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: new(true),
				RunAsUser:    new(unprivilegedID),
				RunAsGroup:   new(unprivilegedID),
				// Makes the emptyDirs and the Secret's file the group's.
				FSGroup:        new(unprivilegedID),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			NodeSelector:     r.nodeSelector,
			ImagePullSecrets: pullSecrets,
			InitContainers:   []corev1.Container{fetchContainer(r)},
			Containers:       []corev1.Container{appContainer(r)},
			Volumes:          volumes(r),
		},
	}
}

// containerSecurity is the same for both containers: what the restricted
// Pod Security Standard asks, plus a read-only root file system.
func containerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             new(true),
		RunAsUser:                new(unprivilegedID),
		RunAsGroup:               new(unprivilegedID),
		ReadOnlyRootFilesystem:   new(true),
		AllowPrivilegeEscalation: new(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func fetchContainer(r *resolved) corev1.Container {
	mounts := []corev1.VolumeMount{
		{Name: volWorkspace, MountPath: WorkspaceDir},
		{Name: volTmp, MountPath: TmpDir},
	}
	if r.RegistrySecret != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: volRegistry, MountPath: RegistryConfigDir, ReadOnly: true})
	}
	if len(r.keys) > 0 {
		mounts = append(mounts, corev1.VolumeMount{Name: volKeys, MountPath: KeysDir, ReadOnly: true})
	}
	return corev1.Container{
		Name:            FetchContainer,
		Image:           r.fetchImage,
		Args:            fetchArgs(r),
		Env:             []corev1.EnvVar{{Name: "HOME", Value: TmpDir}, {Name: "TMPDIR", Value: TmpDir}},
		Resources:       r.fetchResource,
		VolumeMounts:    mounts,
		SecurityContext: containerSecurity(),
		// aether-fetch prints a one-line error; when it did not write the
		// termination log, its last output becomes the termination
		// message the watcher reports with fetch_failed.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

func appContainer(r *resolved) corev1.Container {
	return corev1.Container{
		Name:       AppContainer,
		Image:      r.nodeImage,
		Command:    append([]string(nil), r.Runtime.Command...),
		WorkingDir: AppDir,
		Env:        r.env,
		Ports: []corev1.ContainerPort{{
			Name:          "http",
			ContainerPort: r.Runtime.Port,
			Protocol:      corev1.ProtocolTCP,
		}},
		Resources: r.appResources,
		VolumeMounts: []corev1.VolumeMount{
			// Read-only: the app cannot change the verified code it runs.
			{Name: volWorkspace, MountPath: WorkspaceDir, ReadOnly: true},
			{Name: volTmp, MountPath: TmpDir},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     probeHandler(r),
			PeriodSeconds:    r.probe.PeriodSeconds,
			TimeoutSeconds:   r.probe.TimeoutSeconds,
			FailureThreshold: r.probe.FailureThreshold,
			SuccessThreshold: 1,
		},
		LivenessProbe: &corev1.Probe{
			ProbeHandler:        probeHandler(r),
			InitialDelaySeconds: r.probe.LivenessInitialDelaySeconds,
			PeriodSeconds:       10,
			TimeoutSeconds:      r.probe.TimeoutSeconds,
			FailureThreshold:    r.probe.FailureThreshold,
			SuccessThreshold:    1,
		},
		SecurityContext:          containerSecurity(),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

func probeHandler(r *resolved) corev1.ProbeHandler {
	port := intstr.FromString("http")
	if r.probe.Path != "" {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: r.probe.Path, Port: port, Scheme: corev1.URISchemeHTTP}}
	}
	return corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}
}

func volumes(r *resolved) []corev1.Volume {
	v := []corev1.Volume{
		{Name: volWorkspace, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &r.workspace}}},
		{Name: volTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &r.tmp}}},
	}
	if r.RegistrySecret != "" {
		v = append(v, corev1.Volume{Name: volRegistry, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: r.RegistrySecret,
			// Only the Docker config, group-readable via fsGroup.
			Items:       []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: corev1.DockerConfigJsonKey}},
			DefaultMode: new(int32(0o440)),
		}}})
	}
	if len(r.keys) > 0 {
		v = append(v, corev1.Volume{Name: volKeys, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: TrustKeysConfigMapName(r.Name)},
			DefaultMode:          new(int32(0o444)),
		}}})
	}
	return v
}
