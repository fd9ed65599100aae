import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/vit-teacher/README.md', 'vit-teacher');
